#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = batchlab_web::fuzzing::fragment(data);
});
