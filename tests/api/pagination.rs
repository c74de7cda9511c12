//! Paging through messages: page URLs, clamping, and walks that stay exact while other
//! requests create and delete messages between (and during) page requests.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use reqwest::Method;
use serde_json::Value;

use crate::helpers::{Form, sid_of, spawn_app};

/// The `index` of every message on a page, in order.
fn indices(page: &Value) -> Vec<u64> {
    page["messages"].as_array().expect("messages").iter().map(|m| m["index"].as_u64().expect("index")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_walk_sees_every_surviving_message_once_in_order_despite_concurrent_writes() {
    let app = Arc::new(spawn_app().await);
    for form in app.forms().await {
        for order in ["asc", "desc"] {
            // 60 messages; those with index % 4 == 1 will be deleted mid-walk.
            let conversation = app.conversation(&form).await;
            let mut initial = Vec::new();
            for i in 0..60 {
                initial.push(app.message(&form, &conversation, &format!("m{i}")).await);
            }
            let doomed: Vec<String> =
                initial.iter().filter(|m| m["index"].as_u64().is_some_and(|i| i % 4 == 1)).map(sid_of).collect();
            let survivors: HashSet<String> = initial.iter().map(sid_of).filter(|sid| !doomed.contains(sid)).collect();

            // A writer that keeps creating and deleting its own messages during the walk.
            let stop = Arc::new(AtomicBool::new(false));
            let writer = {
                let (app, form, conversation, stop) =
                    (Arc::clone(&app), form.clone(), conversation.clone(), Arc::clone(&stop));
                tokio::spawn(async move {
                    let mut rounds = 0;
                    while !stop.load(Ordering::Relaxed) && rounds < 10_000 {
                        let extra = app.message(&form, &conversation, "noise").await;
                        app.send(Method::DELETE, &format!("{}/{}", form.messages(&conversation), sid_of(&extra)), &[])
                            .await;
                        app.message(&form, &conversation, "late").await;
                        rounds += 1;
                    }
                })
            };

            // Walk 7 at a time, deleting doomed messages between pages.
            let mut doomed_iter = doomed.clone().into_iter();
            let first = format!("{}?Order={order}&PageSize=7", form.messages(&conversation));
            let seen = app
                .walk(&first, "messages", async || {
                    for sid in doomed_iter.by_ref().take(3) {
                        app.send(Method::DELETE, &format!("{}/{sid}", form.messages(&conversation)), &[]).await;
                    }
                })
                .await;
            stop.store(true, Ordering::Relaxed);
            writer.await.expect("writer finished");

            let seen_sids: Vec<String> = seen.iter().map(sid_of).collect();
            let unique: HashSet<&String> = seen_sids.iter().collect();
            assert_eq!(unique.len(), seen_sids.len(), "{} {order}: a message was served twice", form.name());
            for sid in &survivors {
                assert!(unique.contains(sid), "{} {order}: surviving message {sid} was skipped", form.name());
            }
            let order_of: Vec<u64> = seen.iter().map(|m| m["index"].as_u64().expect("index")).collect();
            let in_order = order_of.windows(2).all(|w| if order == "asc" { w[0] < w[1] } else { w[0] > w[1] });
            assert!(in_order, "{} {order}: out of order: {order_of:?}", form.name());
        }
    }
}

#[tokio::test]
async fn next_and_previous_page_urls_link_pages_both_ways() {
    let app = spawn_app().await;
    for form in app.forms().await {
        let conversation = app.conversation(&form).await;
        for i in 0..5 {
            app.message(&form, &conversation, &i.to_string()).await;
        }
        let first = app.get(&format!("{}?PageSize=2", form.messages(&conversation))).await;
        assert_eq!(indices(&first), [0, 1]);
        let next = first["meta"]["next_page_url"].as_str().expect("next page").to_owned();
        assert!(
            next.starts_with(&format!("{}{}?PageSize=2&Page=1&PageToken=PT", app.base, form.messages(&conversation))),
            "{next}"
        );

        let second = app.get_url(&next).await;
        assert_eq!(indices(&second), [2, 3]);
        assert_eq!(second["meta"]["page"], 1);
        assert_eq!(second["meta"]["url"], next.as_str(), "url carries its own PageToken");
        let third = app.get_url(second["meta"]["next_page_url"].as_str().expect("next")).await;
        assert_eq!((indices(&third), &third["meta"]["next_page_url"]), (vec![4], &Value::Null));

        let back = app.get_url(third["meta"]["previous_page_url"].as_str().expect("previous")).await;
        assert_eq!(indices(&back), [2, 3]);
        let front = app.get_url(back["meta"]["previous_page_url"].as_str().expect("previous")).await;
        assert_eq!((indices(&front), &front["meta"]["previous_page_url"]), (vec![0, 1], &Value::Null));
    }
}

#[tokio::test]
async fn page_size_above_the_maximum_is_clamped_not_rejected() {
    let app = spawn_app().await;
    let form = Form::Default;
    let conversation = app.conversation(&form).await;
    for i in 0..120 {
        app.message(&form, &conversation, &i.to_string()).await;
    }
    for size in ["101", "200", "1000", "99999999999999999999"] {
        let page = app.get(&format!("{}?PageSize={size}", form.messages(&conversation))).await;
        assert_eq!(page["meta"]["page_size"], 100, "PageSize={size}");
        assert_eq!(indices(&page).len(), 100);
        assert!(page["meta"]["next_page_url"].as_str().is_some_and(|url| url.contains("PageSize=100")));
    }
}

#[tokio::test]
async fn a_page_number_without_a_token_skips_whole_pages() {
    let app = spawn_app().await;
    let form = Form::Default;
    let conversation = app.conversation(&form).await;
    for i in 0..7 {
        app.message(&form, &conversation, &i.to_string()).await;
    }
    let page = app.get(&format!("{}?PageSize=3&Page=1", form.messages(&conversation))).await;
    assert_eq!(indices(&page), [3, 4, 5]);
    assert_eq!(page["meta"]["page"], 1);
    let past_the_end = app.get(&format!("{}?PageSize=3&Page=9", form.messages(&conversation))).await;
    assert_eq!((indices(&past_the_end), &past_the_end["meta"]["next_page_url"]), (vec![], &Value::Null));
}

#[tokio::test]
async fn an_empty_conversation_lists_an_empty_page() {
    let app = spawn_app().await;
    for form in app.forms().await {
        let conversation = app.conversation(&form).await;
        let page = app.get(&form.messages(&conversation)).await;
        assert_eq!(page["messages"], serde_json::json!([]), "{}", form.name());
        assert_eq!((&page["meta"]["next_page_url"], &page["meta"]["previous_page_url"]), (&Value::Null, &Value::Null));
    }
}

#[tokio::test]
async fn the_largest_page_number_is_echoed_without_overflowing() {
    let app = spawn_app().await;
    let form = Form::Default;
    let conversation = app.conversation(&form).await;
    for i in 0..3 {
        app.message(&form, &conversation, &i.to_string()).await;
    }
    let path = format!("{}?PageSize=1&Page={}&PageToken=PTA0", form.messages(&conversation), usize::MAX);
    let page = app.get(&path).await;
    assert_eq!(indices(&page), [1]);
    assert!(page["meta"]["next_page_url"].as_str().is_some(), "{page}");
}
