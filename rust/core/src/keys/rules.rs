// SPDX-License-Identifier: GPL-2.0
//! The value-combining rules of RFC 7143 §6.2.2, as pure functions: what a
//! responder answers to an offer, and whether an answer to our own offer is
//! one the rules allow.

use super::{KeyDef, KeyType};

/// Why an answer to our offer breaks RFC 7143 §6.2.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleError {
    /// The value lies outside the key's range.
    OutOfRange,
    /// The value is not one the rule can produce from our offer (a
    /// numerical-min answer above our offer, a boolean-and `Yes` to our
    /// `No`, a list item we did not offer).
    NotAllowed,
    /// The value does not parse for this key's type.
    Malformed,
}

/// Whether `v` lies in `def`'s range.
pub fn in_range(def: &KeyDef, v: u64) -> bool {
    v >= def.min && v <= def.max
}

/// A responder's result for a numerical key: the smaller (numerical-min) or
/// larger (numerical-max) of the two, `Err` when the offer is out of range
/// (answered with Reject, §6.2.1).
pub fn respond_numeric(def: &KeyDef, ours: u64, offered: u64) -> Result<u64, RuleError> {
    if !in_range(def, offered) {
        return Err(RuleError::OutOfRange);
    }
    match def.kind {
        KeyType::NumericalMin => Ok(ours.min(offered)),
        KeyType::NumericalMax => Ok(ours.max(offered)),
        _ => Err(RuleError::Malformed),
    }
}

/// A responder's result for a boolean key: AND or OR of the two values.
pub fn respond_bool(def: &KeyDef, ours: bool, offered: bool) -> Result<bool, RuleError> {
    match def.kind {
        KeyType::BooleanAnd => Ok(ours && offered),
        KeyType::BooleanOr => Ok(ours || offered),
        _ => Err(RuleError::Malformed),
    }
}

/// Whether our boolean offer fixes the result by itself (`No` to
/// boolean-and, `Yes` to boolean-or). RFC 7143 §6.2.1 makes the answer to
/// such an offer optional, so the result must not wait for one.
pub fn offer_decides(def: &KeyDef, offered: bool) -> bool {
    match def.kind {
        KeyType::BooleanAnd => !offered,
        KeyType::BooleanOr => offered,
        _ => false,
    }
}

/// Checks the answer to our numerical offer and returns the negotiated
/// value: it must be in range and no worse for us than the rule allows.
pub fn check_numeric_answer(def: &KeyDef, offered: u64, answer: u64) -> Result<u64, RuleError> {
    if !in_range(def, answer) {
        return Err(RuleError::OutOfRange);
    }
    let ok = match def.kind {
        KeyType::NumericalMin => answer <= offered,
        KeyType::NumericalMax => answer >= offered,
        _ => return Err(RuleError::Malformed),
    };
    if ok {
        Ok(answer)
    } else {
        Err(RuleError::NotAllowed)
    }
}

/// Checks the answer to our boolean offer: after `No` to boolean-and or
/// `Yes` to boolean-or the result is fixed, so only that value may come
/// back.
pub fn check_bool_answer(def: &KeyDef, offered: bool, answer: bool) -> Result<bool, RuleError> {
    let ok = match def.kind {
        KeyType::BooleanAnd => offered || !answer,
        KeyType::BooleanOr => !offered || answer,
        _ => return Err(RuleError::Malformed),
    };
    if ok {
        Ok(answer)
    } else {
        Err(RuleError::NotAllowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyId;

    #[test]
    fn numerical_min_and_max() {
        let mb = KeyId::MaxBurstLength.def();
        assert_eq!(respond_numeric(mb, 262_144, 65_536), Ok(65_536));
        assert_eq!(respond_numeric(mb, 8192, 65_536), Ok(8192));
        assert_eq!(respond_numeric(mb, 8192, 100), Err(RuleError::OutOfRange));
        let t2w = KeyId::DefaultTime2Wait.def();
        assert_eq!(respond_numeric(t2w, 2, 5), Ok(5));
        assert_eq!(respond_numeric(t2w, 7, 5), Ok(7));
        assert_eq!(respond_numeric(t2w, 7, 3601), Err(RuleError::OutOfRange));
    }

    #[test]
    fn answers_to_our_offers() {
        let erl = KeyId::ErrorRecoveryLevel.def();
        assert_eq!(check_numeric_answer(erl, 2, 0), Ok(0));
        assert_eq!(check_numeric_answer(erl, 0, 2), Err(RuleError::NotAllowed));
        assert_eq!(check_numeric_answer(erl, 2, 3), Err(RuleError::OutOfRange));
        let t2w = KeyId::DefaultTime2Wait.def();
        assert_eq!(check_numeric_answer(t2w, 2, 1), Err(RuleError::NotAllowed));
        let imm = KeyId::ImmediateData.def();
        assert_eq!(
            check_bool_answer(imm, false, true),
            Err(RuleError::NotAllowed)
        );
        assert_eq!(check_bool_answer(imm, true, false), Ok(false));
        let r2t = KeyId::InitialR2T.def();
        assert_eq!(
            check_bool_answer(r2t, true, false),
            Err(RuleError::NotAllowed)
        );
        assert_eq!(check_bool_answer(r2t, false, true), Ok(true));
        assert_eq!(respond_bool(imm, true, false), Ok(false));
        assert!(offer_decides(imm, false) && !offer_decides(imm, true));
        assert!(offer_decides(r2t, true) && !offer_decides(r2t, false));
        assert!(!offer_decides(erl, true));
        assert_eq!(respond_bool(r2t, false, true), Ok(true));
    }
}
