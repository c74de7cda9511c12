//! Arbitrary list queries (`Order`, `PageSize`, `Page`, `PageToken`) read and paged through.
//! The check is `twilio_conversations_emulator::fuzzing::page_query`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    twilio_conversations_emulator::fuzzing::page_query(text);
});
