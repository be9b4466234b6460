//! Integer division, modulus and power: floor semantics, `x / 0 = x % 0 = 0`, and never a trap.

use super::translate::FunctionTranslator;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, Value};

impl FunctionTranslator<'_> {
    /// Floor division of scalars; `x / 0 = 0`, `MIN / -1` wraps. Never traps: the hardware divides by a
    /// divisor that is neither 0 nor -1.
    pub(super) fn int_div(&mut self, a: Value, b: Value, unsigned: bool) -> Value {
        let ty = self.ty(a);
        let zero = self.ik(ty, 0);
        let one = self.ik(ty, 1);
        let is_zero = self.b.ins().icmp_imm_s(IntCC::Equal, b, 0);
        if unsigned {
            let safe = self.b.ins().select(is_zero, one, b);
            let q = self.b.ins().udiv(a, safe);
            return self.b.ins().select(is_zero, zero, q);
        }
        let is_m1 = self.b.ins().icmp_imm_s(IntCC::Equal, b, -1);
        let special = self.b.ins().bor(is_zero, is_m1);
        let safe = self.b.ins().select(special, one, b);
        let q = self.b.ins().sdiv(a, safe);
        let r = self.b.ins().srem(a, safe);
        // Truncated → floor: subtract one where the remainder is nonzero and its sign differs from b's.
        let r_nz = self.b.ins().icmp_imm_s(IntCC::NotEqual, r, 0);
        let rb = self.b.ins().bxor(r, b);
        let differ = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, rb, 0);
        let adjust = self.b.ins().band(r_nz, differ);
        let adjust = self.b.ins().uextend(ty, adjust);
        let q = self.b.ins().isub(q, adjust);
        let neg = self.b.ins().ineg(a);
        let q = self.b.ins().select(is_m1, neg, q);
        self.b.ins().select(is_zero, zero, q)
    }

    /// Floor modulus of scalars (sign of the divisor); `x % 0 = 0`.
    pub(super) fn int_rem(&mut self, a: Value, b: Value, unsigned: bool) -> Value {
        let ty = self.ty(a);
        let zero = self.ik(ty, 0);
        let one = self.ik(ty, 1);
        let is_zero = self.b.ins().icmp_imm_s(IntCC::Equal, b, 0);
        if unsigned {
            let safe = self.b.ins().select(is_zero, one, b);
            let r = self.b.ins().urem(a, safe);
            return self.b.ins().select(is_zero, zero, r);
        }
        // x % -1 == 0 == x % 1, and dividing by 1 cannot overflow.
        let is_m1 = self.b.ins().icmp_imm_s(IntCC::Equal, b, -1);
        let special = self.b.ins().bor(is_zero, is_m1);
        let safe = self.b.ins().select(special, one, b);
        let r = self.b.ins().srem(a, safe);
        let r_nz = self.b.ins().icmp_imm_s(IntCC::NotEqual, r, 0);
        let rb = self.b.ins().bxor(r, b);
        let differ = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, rb, 0);
        let adjust = self.b.ins().band(r_nz, differ);
        let plus = self.b.ins().iadd(r, b);
        let r = self.b.ins().select(adjust, plus, r);
        self.b.ins().select(is_zero, zero, r)
    }

    /// `a^e` for scalar integers, wrapping; a negative exponent gives 0, 1 for base 1, ±1 for base -1.
    pub(super) fn int_pow(&mut self, a: Value, e: Value, unsigned: bool) -> Value {
        let ty = self.ty(a);
        let header = self.b.create_block();
        let body = self.b.create_block();
        let exit = self.b.create_block();
        let (acc, base, exp) = (
            self.b.append_block_param(header, ty),
            self.b.append_block_param(header, ty),
            self.b.append_block_param(header, ty),
        );
        let result = self.b.append_block_param(exit, ty);
        let one = self.b.ins().iconst(ty, 1);
        let zero = self.b.ins().iconst(ty, 0);
        let negative = if unsigned {
            None
        } else {
            Some(self.b.ins().icmp_imm_s(IntCC::SignedLessThan, e, 0))
        };
        let e0 = match negative {
            Some(n) => self.b.ins().select(n, zero, e),
            None => e,
        };
        self.b
            .ins()
            .jump(header, &[one.into(), a.into(), e0.into()]);
        self.b.switch_to_block(header);
        self.b.ins().brif(exp, body, &[], exit, &[acc.into()]);
        self.b.switch_to_block(body);
        self.b.seal_block(body);
        let bit = self.b.ins().band_imm_u(exp, 1);
        let prod = self.b.ins().imul(acc, base);
        let acc2 = self.b.ins().select(bit, prod, acc);
        let base2 = self.b.ins().imul(base, base);
        let exp2 = self.ushr(exp, 1);
        self.b
            .ins()
            .jump(header, &[acc2.into(), base2.into(), exp2.into()]);
        self.b.seal_block(header);
        self.b.switch_to_block(exit);
        self.b.seal_block(exit);
        let Some(negative) = negative else {
            return result;
        };
        let is_one = self.b.ins().icmp_imm_s(IntCC::Equal, a, 1);
        let is_minus_one = self.b.ins().icmp_imm_s(IntCC::Equal, a, -1);
        let odd = self.b.ins().band_imm_u(e, 1);
        let minus_one = self.b.ins().iconst(ty, -1);
        let sign = self.b.ins().select(odd, minus_one, one);
        let r = self.b.ins().select(is_minus_one, sign, zero);
        let r = self.b.ins().select(is_one, one, r);
        self.b.ins().select(negative, r, result)
    }
}
