//! A snapshot file made of arbitrary bytes (behind a valid header when the
//! first byte is even): verification, `check` and a whole store open must
//! never panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    memkeep_engine::fuzzing::open_with_snapshot(data);
});
