// SPDX-License-Identifier: GPL-2.0
//! Arg-min over the connection slots with rotating tie-breaks, the one scan
//! every policy reduces to.

/// Returns the slot in `0..n` with the smallest key, or `None` when `key`
/// rejects every slot.
///
/// The scan starts at `start` and keeps the first strict minimum it meets, so
/// among equal keys the slot nearest after the previous choice wins. Callers
/// store `chosen + 1` as the next `start`, which turns every tie into
/// round-robin without a second pass.
pub(crate) fn rotating_min<K, F>(n: usize, start: usize, key: F) -> Option<usize>
where
    K: Ord + Copy,
    F: Fn(usize) -> Option<K>,
{
    if n == 0 {
        return None;
    }
    let start = start % n;
    let mut best: Option<(usize, K)> = None;
    // Two plain ranges instead of `(start + step) % n`: a division per slot
    // was most of the cost of a select.
    for slot in (start..n).chain(0..start) {
        if let Some(k) = key(slot) {
            let better = match best {
                Some((_, b)) => k < b,
                None => true,
            };
            if better {
                best = Some((slot, k));
            }
        }
    }
    best.map(|(slot, _)| slot)
}

#[cfg(test)]
mod tests {
    use super::rotating_min;

    #[test]
    fn empty_and_all_rejected() {
        assert_eq!(rotating_min(0, 0, |_| Some(0u64)), None);
        assert_eq!(rotating_min::<u64, _>(4, 1, |_| None), None);
    }

    #[test]
    fn ties_resolve_from_start() {
        let keys = [5u64, 1, 1, 1];
        let k = |i: usize| keys.get(i).copied();
        assert_eq!(rotating_min(4, 0, k), Some(1));
        assert_eq!(rotating_min(4, 2, k), Some(2));
        assert_eq!(rotating_min(4, 3, k), Some(3));
        // Wraps around past the end.
        assert_eq!(rotating_min(4, 4, k), Some(1));
    }

    #[test]
    fn strict_minimum_beats_rotation() {
        let keys = [3u64, 9, 2, 7];
        let k = |i: usize| keys.get(i).copied();
        for start in 0..8 {
            assert_eq!(rotating_min(4, start, k), Some(2));
        }
    }

    #[test]
    fn tuple_keys_compare_in_order() {
        let keys = [(2u32, 5u64), (1, 9), (1, 3), (1, 3)];
        let k = |i: usize| keys.get(i).copied();
        assert_eq!(rotating_min(4, 0, k), Some(2));
        assert_eq!(rotating_min(4, 3, k), Some(3));
    }

    #[test]
    fn skips_rejected_slots() {
        let k = |i: usize| if i == 2 { None } else { Some(10 - i as u64) };
        assert_eq!(rotating_min(4, 0, k), Some(3));
        let only_one = |i: usize| if i == 1 { Some(99) } else { None };
        assert_eq!(rotating_min(4, 3, only_one), Some(1));
    }
}
