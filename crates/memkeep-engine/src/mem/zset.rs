//! The sorted-set type: a score table for lookups by member and an ordered
//! index for ranges by score and rank.
//!
//! Members are ordered by (score, member bytes), as in Redis. Scores are
//! never NaN (callers reject it) and -0 is stored as 0, so comparing with
//! `total_cmp` agrees with Redis's numeric comparison.
//!
//! Rank queries walk the ordered index: O(rank). Ranges by score are
//! O(log n + m).

use std::collections::BTreeSet;
use std::ops::Bound;

use super::packed_map::{MapCursor, PackedMap};

#[derive(Clone, Copy, Debug)]
pub(crate) struct Score(pub(crate) f64);

impl PartialEq for Score {
    fn eq(&self, other: &Self) -> bool {
        self.0.total_cmp(&other.0).is_eq()
    }
}
impl Eq for Score {}
impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Score {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// One end of a score range.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ScoreBound {
    Inclusive(f64),
    Exclusive(f64),
}

impl ScoreBound {
    fn admits_from_below(self, s: f64) -> bool {
        match self {
            ScoreBound::Inclusive(m) => s >= m,
            ScoreBound::Exclusive(m) => s > m,
        }
    }
    fn admits_from_above(self, s: f64) -> bool {
        match self {
            ScoreBound::Inclusive(m) => s <= m,
            ScoreBound::Exclusive(m) => s < m,
        }
    }
}

fn normalize(score: f64) -> f64 {
    debug_assert!(
        !score.is_nan(),
        "NaN scores are rejected before they get here"
    );
    if score == 0.0 { 0.0 } else { score }
}

#[derive(Default)]
pub(crate) struct ZSet {
    scores: PackedMap,
    order: BTreeSet<(Score, Box<[u8]>)>,
    /// Estimated bytes of the ordered index: a boxed member and a B-tree slot each.
    order_bytes: usize,
}

fn order_cost(member: &[u8]) -> usize {
    member.len().next_multiple_of(16) + 40
}

impl ZSet {
    pub(crate) fn len(&self) -> usize {
        self.scores.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }

    pub(crate) fn has_room_for(&self, extra: usize) -> bool {
        self.scores.has_room_for(extra)
    }

    /// Memory held, in bytes.
    pub(crate) fn memory(&self) -> usize {
        self.scores.memory() + self.order_bytes
    }

    pub(crate) fn score(&self, member: &[u8]) -> Option<f64> {
        self.scores
            .get(member)
            .map(|b| f64::from_le_bytes(b.try_into().expect("8-byte score")))
    }

    /// Sets `member`'s score; true when the member is new.
    pub(crate) fn insert(&mut self, member: &[u8], score: f64) -> bool {
        let score = normalize(score);
        if let Some(old) = self.score(member) {
            if Score(old) == Score(score) {
                return false;
            }
            let key = self
                .order
                .take(&(Score(old), Box::<[u8]>::from(member)))
                .expect("ordered index holds every member");
            self.order.insert((Score(score), key.1));
            self.scores.insert(member, &score.to_le_bytes());
            return false;
        }
        self.scores.insert(member, &score.to_le_bytes());
        self.order.insert((Score(score), member.into()));
        self.order_bytes += order_cost(member);
        true
    }

    /// Removes `member`; true when it was present.
    pub(crate) fn remove(&mut self, member: &[u8]) -> bool {
        let Some(old) = self.score(member) else {
            return false;
        };
        self.scores.remove(member);
        self.order.remove(&(Score(old), Box::<[u8]>::from(member)));
        self.order_bytes -= order_cost(member);
        true
    }

    /// 0-based position of `member` in ascending order.
    pub(crate) fn rank(&self, member: &[u8]) -> Option<usize> {
        let score = self.score(member)?;
        let key = (Score(score), Box::<[u8]>::from(member));
        Some(self.order.range(..&key).count())
    }

    /// Iterates members from `cursor` (see [`PackedMap::scan`]).
    pub(crate) fn scan(
        &self,
        cursor: MapCursor,
        count: usize,
        mut f: impl FnMut(&[u8], f64),
    ) -> MapCursor {
        self.scores.scan(cursor, count, |m, s| {
            f(m, f64::from_le_bytes(s.try_into().expect("8-byte score")))
        })
    }

    /// Members and scores in ascending order.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = (&[u8], f64)> {
        self.order.iter().map(|(s, m)| (&**m, s.0))
    }

    /// Members with `min <= score <= max` (bounds as given), ascending.
    pub(crate) fn range_by_score(
        &self,
        min: ScoreBound,
        max: ScoreBound,
    ) -> impl DoubleEndedIterator<Item = (&[u8], f64)> {
        let lo = match min {
            ScoreBound::Inclusive(m) | ScoreBound::Exclusive(m) => m,
        };
        let start: (Score, Box<[u8]>) = (Score(normalize_bound(lo)), Box::default());
        self.order
            .range((Bound::Included(start), Bound::Unbounded))
            .map(|(s, m)| (&**m, s.0))
            .skip_while(move |(_, s)| !min.admits_from_below(*s))
            .take_while(move |(_, s)| max.admits_from_above(*s))
            .collect::<Vec<_>>()
            .into_iter()
    }
}

/// Range bounds may be ±inf; -0 compares equal to 0.
fn normalize_bound(b: f64) -> f64 {
    if b.is_nan() {
        f64::INFINITY
    } else {
        normalize(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn ranks_and_ranges_agree_with_a_sorted_vec(
            ops in prop::collection::vec((0u8..30, -5i32..5, any::<bool>()), 0..300),
            lo in -6i32..6, hi in -6i32..6, lo_ex in any::<bool>(), hi_ex in any::<bool>(),
        ) {
            let mut z = ZSet::default();
            let mut model: std::collections::HashMap<Vec<u8>, f64> = Default::default();
            for (m, s, del) in ops {
                let m = vec![b'm', m];
                if del {
                    prop_assert_eq!(z.remove(&m), model.remove(&m).is_some());
                } else {
                    prop_assert_eq!(z.insert(&m, s as f64), model.insert(m, s as f64).is_none());
                }
            }
            let mut sorted: Vec<(f64, Vec<u8>)> = model.iter().map(|(m, s)| (*s, m.clone())).collect();
            sorted.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let got: Vec<(f64, Vec<u8>)> = z.iter().map(|(m, s)| (s, m.to_vec())).collect();
            prop_assert_eq!(&got, &sorted);
            for (i, (_, m)) in sorted.iter().enumerate() {
                prop_assert_eq!(z.rank(m), Some(i));
            }
            let min = if lo_ex { ScoreBound::Exclusive(lo as f64) } else { ScoreBound::Inclusive(lo as f64) };
            let max = if hi_ex { ScoreBound::Exclusive(hi as f64) } else { ScoreBound::Inclusive(hi as f64) };
            let want: Vec<&Vec<u8>> = sorted.iter()
                .filter(|(s, _)| min.admits_from_below(*s) && max.admits_from_above(*s))
                .map(|(_, m)| m).collect();
            let got: Vec<Vec<u8>> = z.range_by_score(min, max).map(|(m, _)| m.to_vec()).collect();
            prop_assert_eq!(got.iter().collect::<Vec<_>>(), want);
        }
    }

    #[test]
    fn negative_zero_equals_zero() {
        let mut z = ZSet::default();
        z.insert(b"a", -0.0);
        assert!(!z.insert(b"a", 0.0));
        assert_eq!(z.score(b"a").unwrap().to_bits(), 0.0f64.to_bits());
        let all: Vec<_> = z
            .range_by_score(ScoreBound::Inclusive(-0.0), ScoreBound::Inclusive(0.0))
            .collect();
        assert_eq!(all.len(), 1);
    }
}
