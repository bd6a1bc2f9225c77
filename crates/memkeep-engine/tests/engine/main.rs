//! Integration tests of the engine: one binary, one module per concern.

mod api;
mod corruption;
mod expiry;
mod model;
mod poison;
mod recovery;
mod snapshot_load;
mod tx;
mod util;
