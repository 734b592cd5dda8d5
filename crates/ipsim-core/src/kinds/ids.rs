//! A short list of ids kept inline, up to `INLINE` of them: a service's active revisions
//! (one or two almost always) and a revision's running instances (a few to a few dozen), so
//! that an evaluation reads them from the record it reads anyway instead of following a
//! pointer to a heap buffer (in a run of many services, a cache miss per evaluation).

/// An ordered list of ids; more than `INLINE` move to a heap buffer.
#[derive(Debug, Clone)]
#[repr(C)]
pub(crate) struct Ids<const INLINE: usize> {
    len: usize,
    inline: [u32; INLINE],
    /// Every id, once there are more than `INLINE` (else empty).
    spill: Vec<u32>,
}

impl<const INLINE: usize> Default for Ids<INLINE> {
    fn default() -> Self {
        Ids {
            len: 0,
            inline: [0; INLINE],
            spill: Vec::new(),
        }
    }
}

impl<const INLINE: usize> Ids<INLINE> {
    /// How many.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Removes and returns the last id.
    pub(crate) fn pop(&mut self) -> Option<u32> {
        if self.len <= INLINE {
            self.len = self.len.checked_sub(1)?;
            return Some(self.inline[self.len]);
        }
        let id = self.spill.pop();
        self.len -= 1;
        if self.len == INLINE {
            self.inline.copy_from_slice(&self.spill);
            self.spill.clear();
        }
        id
    }

    /// The ids, in order.
    pub(crate) fn as_slice(&self) -> &[u32] {
        if self.len <= INLINE {
            &self.inline[..self.len]
        } else {
            &self.spill
        }
    }

    /// Appends `id`.
    pub(crate) fn push(&mut self, id: u32) {
        if self.len < INLINE {
            self.inline[self.len] = id;
        } else {
            if self.len == INLINE {
                self.spill.extend_from_slice(&self.inline);
            }
            self.spill.push(id);
        }
        self.len += 1;
    }

    /// Removes the last occurrence of `id`, if any, keeping the order of the others.
    pub(crate) fn remove_last(&mut self, id: u32) {
        let Some(pos) = self.as_slice().iter().rposition(|&x| x == id) else {
            return;
        };
        if self.len <= INLINE {
            self.inline.copy_within(pos + 1..self.len, pos);
        } else {
            self.spill.remove(pos);
            if self.len == INLINE + 1 {
                self.inline.copy_from_slice(&self.spill);
                self.spill.clear();
            }
        }
        self.len -= 1;
    }

    /// Keeps the ids for which `keep` is true, in order.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(u32) -> bool) {
        if self.len <= INLINE {
            let mut j = 0;
            for i in 0..self.len {
                let id = self.inline[i];
                if keep(id) {
                    self.inline[j] = id;
                    j += 1;
                }
            }
            self.len = j;
        } else {
            self.spill.retain(|&id| keep(id));
            self.len = self.spill.len();
            if self.len <= INLINE {
                self.inline[..self.len].copy_from_slice(&self.spill);
                self.spill = Vec::new();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The list agrees with a `Vec` through pushes and retains across the inline limit.
    #[test]
    fn ids_keep_their_order_like_a_vec() {
        let (mut ids, mut v) = (Ids::<4>::default(), Vec::new());
        let mut x = 11u32;
        for step in 0..3000u32 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            if x % 7 < 3 {
                assert_eq!(ids.pop(), v.pop(), "step {step}");
            } else if x % 11 == 0 {
                let id = v
                    .get((x >> 4) as usize % v.len().max(1))
                    .copied()
                    .unwrap_or(step);
                ids.remove_last(id);
                if let Some(pos) = v.iter().rposition(|&x| x == id) {
                    v.remove(pos);
                }
            } else if x % 5 == 0 {
                let m = (x >> 8) % 3 + 2;
                ids.retain(|id| id % m != 0);
                v.retain(|id| id % m != 0);
            } else {
                ids.push(step);
                v.push(step);
            }
            assert_eq!(ids.as_slice(), v.as_slice(), "step {step}");
            assert_eq!((ids.len(), ids.is_empty()), (v.len(), v.is_empty()));
        }
    }
}
