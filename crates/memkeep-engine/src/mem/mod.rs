//! In-memory data structures built for a small footprint.
//!
//! - [`arena`]: variable-length records packed into segments, 4-byte handles.
//! - [`packed_map`]: byte map over an arena (hashes, sets, score tables).
//! - [`packed_list`]: a deque of packed chunks (lists).
//! - [`zset`]: score table plus ordered index (sorted sets).

pub(crate) mod arena;
pub(crate) mod packed_list;
pub(crate) mod packed_map;
pub(crate) mod zset;
