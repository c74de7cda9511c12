//! Parallel creates in one conversation get distinct, increasing indices and none is lost.

use std::collections::HashSet;
use std::sync::Arc;

use crate::helpers::{sid_of, spawn_app};

const CREATORS: usize = 64;
const MESSAGES_EACH: usize = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_concurrent_creators_lose_nothing_and_share_no_index() {
    let app = Arc::new(spawn_app().await);
    for form in app.forms().await {
        let conversation = app.conversation(&form).await;

        let creators = (0..CREATORS).map(|creator| {
            let (app, form, conversation) = (Arc::clone(&app), form.clone(), conversation.clone());
            tokio::spawn(async move {
                let mut created = Vec::new();
                for n in 0..MESSAGES_EACH {
                    created.push(app.message(&form, &conversation, &format!("{creator}-{n}")).await);
                }
                created
            })
        });
        let mut created = Vec::new();
        for creator in creators.collect::<Vec<_>>() {
            let own = creator.await.expect("creator task");
            let own_indices: Vec<u64> = own.iter().map(|m| m["index"].as_u64().expect("index")).collect();
            assert!(own_indices.windows(2).all(|w| w[0] < w[1]), "one creator's indices increase: {own_indices:?}");
            created.extend(own);
        }

        let total = CREATORS * MESSAGES_EACH;
        let indices: HashSet<u64> = created.iter().map(|m| m["index"].as_u64().expect("index")).collect();
        assert_eq!(
            indices,
            (0..total as u64).collect(),
            "{}: indices are 0..{total} with no gaps or repeats",
            form.name()
        );
        let listed: Vec<String> = app
            .all_messages(&format!("{}?PageSize=100", form.messages(&conversation)))
            .await
            .iter()
            .map(sid_of)
            .collect();
        let created_sids: HashSet<String> = created.iter().map(sid_of).collect();
        assert_eq!(listed.len(), total, "{}", form.name());
        assert_eq!(listed.into_iter().collect::<HashSet<_>>(), created_sids, "every created message is stored");
    }
}
