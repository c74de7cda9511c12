//! One thread's memory of the last question a function was asked, and its answer: for
//! work whose inputs repeat from one call to the next on a thread (the calendar day of
//! every timestamp on a page, in `crate::time`).

use std::cell::RefCell;
use std::thread::LocalKey;

/// The last key asked on this thread, with its answer. Declare one per function in a
/// `thread_local!`, initialised with `const { RefCell::new(None) }`.
pub type Memo<K, V> = RefCell<Option<(K, V)>>;

/// `compute()`, or the answer remembered for `key` if it was the last key asked on this
/// thread.
pub fn remembered<K: PartialEq + Clone, V: Clone>(
    memo: &'static LocalKey<Memo<K, V>>,
    key: &K,
    compute: impl FnOnce() -> V,
) -> V {
    memo.with_borrow_mut(|last| {
        if let Some((seen, answer)) = last.as_ref()
            && seen == key
        {
            return answer.clone();
        }
        let answer = compute();
        *last = Some((key.clone(), answer.clone()));
        answer
    })
}
