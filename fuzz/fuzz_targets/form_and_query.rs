//! Requests with arbitrary query strings and form bodies (in every content type), sent
//! in-process to the operations that read them: never a server error, every error
//! Twilio-shaped (`twilio_conversations_emulator::fuzzing::Api`).
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use twilio_conversations_emulator::fuzzing::Api;

thread_local! {
    // One emulator for the whole run: building one per input would spend the run on set-up.
    static API: RefCell<Api> = RefCell::new(Api::new());
}

fuzz_target!(|data: &[u8]| {
    API.with(|api| api.borrow_mut().request(data));
});
