//! Arbitrary text read as a date-time, a date range's ends and a duration.
//! The check is `twilio_conversations_emulator::fuzzing::timestamps`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    twilio_conversations_emulator::fuzzing::timestamps(text);
});
