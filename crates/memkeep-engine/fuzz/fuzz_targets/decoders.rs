//! In-memory decoders: journal record payloads (ops) and snapshot data
//! frames (items). Any bytes must give an error or a value, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    memkeep_engine::fuzzing::decode_record_payload(data);
    memkeep_engine::fuzzing::decode_snapshot_frame(data);
});
