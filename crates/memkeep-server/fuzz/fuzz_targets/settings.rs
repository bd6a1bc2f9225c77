//! Size and duration settings (flags, variables, the TOML file) from any
//! text: a value or an error, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = memkeep_server::units::parse_size(s);
        let _ = memkeep_server::units::parse_duration(s);
    }
});
