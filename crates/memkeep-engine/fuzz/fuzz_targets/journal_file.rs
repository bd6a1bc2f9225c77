//! A journal segment made of arbitrary bytes (behind a valid header when
//! the first byte is even, so the fuzzer reaches records quickly): the
//! reader, `check` and a whole store open must never panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    memkeep_engine::fuzzing::open_with_journal(data);
});
