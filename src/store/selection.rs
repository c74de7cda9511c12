//! Picking one page out of an ordered collection (keyset selection): the store's side of
//! paging. Reading the page parameters, writing tokens, links and `meta` is the edge's
//! (`crate::pagination`).

use std::collections::BTreeMap;
use std::ops::Bound;

/// Walking direction of a list, from the `Order` parameter where a resource has one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Order {
    #[default]
    Asc,
    Desc,
}

/// Where a page starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cursor {
    /// No token and no page number: the first page.
    Start,
    /// A `Page` number without a token: skip `Page × PageSize` records.
    Offset(usize),
    /// `PTA{key}`: the records after `key` in walking order.
    After(u64),
    /// `PTB{key}`: the records just before `key` in walking order (a previous page).
    Before(u64),
}

/// A validated page request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub order: Order,
    /// Records per page, already clamped to the resource's maximum.
    pub size: usize,
    /// The client's page number, echoed back in `meta.page`.
    pub number: usize,
    pub cursor: Cursor,
}

/// One page picked out of an ordered collection, with what lies on either side.
#[derive(Debug)]
pub struct Selection<T> {
    pub items: Vec<T>,
    /// The cursor of the previous page, if any record lies before this one.
    pub previous: Option<Cursor>,
    /// The cursor of the next page, if any record lies after this one.
    pub next: Option<Cursor>,
}

impl<T> Selection<T> {
    /// Converts every item, keeping the cursors.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Selection<U> {
        Selection { items: self.items.into_iter().map(f).collect(), previous: self.previous, next: self.next }
    }

    /// Converts every item, dropping those `f` has no answer for, and keeps the cursors.
    pub fn filter_map<U>(self, f: impl FnMut(T) -> Option<U>) -> Selection<U> {
        Selection { items: self.items.into_iter().filter_map(f).collect(), previous: self.previous, next: self.next }
    }
}

/// Selects the page `request` asks for from `records`, keyed by a strictly increasing
/// key (message index, creation sequence), keeping only those for which `keep` is true.
pub fn select<'a, V>(
    records: &'a BTreeMap<u64, V>,
    request: &PageRequest,
    keep: impl Fn(&V) -> bool,
) -> Selection<&'a V> {
    let order = request.order;
    let mut items = Vec::with_capacity(request.size.min(records.len()));
    // The keys of the page's first and last records, in walking order.
    let mut ends: Option<(u64, u64)> = None;
    let mut take = |(key, value)| {
        ends = Some(ends.map_or((key, key), |(first, _)| (first, key)));
        items.push(value);
    };
    match request.cursor {
        Cursor::Start => after(records, order, Bound::Unbounded, &keep).take(request.size).for_each(&mut take),
        Cursor::Offset(skip) => {
            after(records, order, Bound::Unbounded, &keep).skip(skip).take(request.size).for_each(&mut take)
        }
        Cursor::After(key) => after(records, order, Bound::Excluded(key), &keep).take(request.size).for_each(&mut take),
        Cursor::Before(key) => {
            before(records, order, key, &keep).take(request.size).for_each(&mut take);
            // Walked backwards from the cursor: the page reads the other way.
            items.reverse();
            ends = ends.map(|(nearest, farthest)| (farthest, nearest));
        }
    }
    let has_before = |key| before(records, order, key, &keep).next().is_some();
    let has_after = |key| after(records, order, Bound::Excluded(key), &keep).next().is_some();
    let (previous, next) = match ends {
        Some((first, last)) => {
            (has_before(first).then_some(Cursor::Before(first)), has_after(last).then_some(Cursor::After(last)))
        }
        // An empty page past the end: the previous page is whatever precedes the cursor.
        None => match request.cursor {
            Cursor::After(key) => (has_before(key).then_some(Cursor::Before(key)), None),
            Cursor::Start | Cursor::Offset(_) | Cursor::Before(_) => (None, None),
        },
    };
    Selection { items, previous, next }
}

/// The kept records after `from` in walking order, nearest first.
fn after<'a, V>(
    records: &'a BTreeMap<u64, V>,
    order: Order,
    from: Bound<u64>,
    keep: &impl Fn(&V) -> bool,
) -> impl Iterator<Item = (u64, &'a V)> {
    let walk = match order {
        Order::Asc => Walk::Forward(records.range((from, Bound::Unbounded))),
        Order::Desc => Walk::Backward(records.range((Bound::Unbounded, from)).rev()),
    };
    walk.filter_map(move |(key, value)| keep(value).then_some((*key, value)))
}

/// The kept records strictly before `key` in walking order, nearest first.
fn before<'a, V>(
    records: &'a BTreeMap<u64, V>,
    order: Order,
    key: u64,
    keep: &impl Fn(&V) -> bool,
) -> impl Iterator<Item = (u64, &'a V)> {
    let walk = match order {
        Order::Asc => Walk::Backward(records.range(..key).rev()),
        Order::Desc => Walk::Forward(records.range((Bound::Excluded(key), Bound::Unbounded))),
    };
    walk.filter_map(move |(key, value)| keep(value).then_some((*key, value)))
}

/// A walk over a range of records in either direction: one type for both, where a boxed
/// iterator would cost an allocation and a dynamic call per record.
enum Walk<Forward, Backward> {
    Forward(Forward),
    Backward(Backward),
}

impl<T, Forward: Iterator<Item = T>, Backward: Iterator<Item = T>> Iterator for Walk<Forward, Backward> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        match self {
            Self::Forward(walk) => walk.next(),
            Self::Backward(walk) => walk.next(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(keys: impl IntoIterator<Item = u64>) -> BTreeMap<u64, u64> {
        keys.into_iter().map(|k| (k, k)).collect()
    }

    fn request(order: Order, size: usize, cursor: Cursor) -> PageRequest {
        PageRequest { order, size, number: 0, cursor }
    }

    fn keys(selection: &Selection<&u64>) -> Vec<u64> {
        selection.items.iter().map(|v| **v).collect()
    }

    #[test]
    fn walks_forward_and_back_in_both_orders() {
        let records = map(0..7);
        let first = select(&records, &request(Order::Asc, 3, Cursor::Start), |_| true);
        assert_eq!((keys(&first), first.previous, first.next), (vec![0, 1, 2], None, Some(Cursor::After(2))));
        let second = select(&records, &request(Order::Asc, 3, Cursor::After(2)), |_| true);
        assert_eq!(keys(&second), vec![3, 4, 5]);
        assert_eq!(second.previous, Some(Cursor::Before(3)));
        let back = select(&records, &request(Order::Asc, 3, Cursor::Before(3)), |_| true);
        assert_eq!(keys(&back), vec![0, 1, 2]);

        let desc = select(&records, &request(Order::Desc, 3, Cursor::Start), |_| true);
        assert_eq!(keys(&desc), vec![6, 5, 4]);
        let desc_next = select(&records, &request(Order::Desc, 3, desc.next.unwrap()), |_| true);
        assert_eq!(keys(&desc_next), vec![3, 2, 1]);
        let last = select(&records, &request(Order::Desc, 3, desc_next.next.unwrap()), |_| true);
        assert_eq!((keys(&last), last.next), (vec![0], None));
    }

    #[test]
    fn cursor_survives_deletion_of_its_key() {
        let mut records = map(0..6);
        records.remove(&2);
        let page = select(&records, &request(Order::Asc, 2, Cursor::After(2)), |_| true);
        assert_eq!(keys(&page), vec![3, 4]);
    }
}
