//! The static baseline: what the HTTP stack alone costs. A minimal axum server, in a
//! process of its own (so that it competes for the two cores exactly as the emulator does),
//! with the emulator's message routes and, on each, a static answer captured from the
//! emulator in the same run: same status, same `Content-Type`, same number of bytes.
//!
//! Every figure in the report is the emulator's throughput divided by this server's under
//! the same requests, so what the emulator adds on top of hyper and axum (authentication,
//! extraction, the store, JSON rendering) is what the ratio shows.

use std::process::ExitCode;

use axum::Router;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

/// The answers the baseline serves, one per message route. A route without an answer gets
/// a 500, so a scenario that needs it fails instead of measuring nothing.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct Bodies {
    /// `GET …/Messages/{IM}`, 200.
    pub fetch: Option<String>,
    /// `GET …/Messages`, 200.
    pub list: Option<String>,
    /// `POST …/Messages`, 201.
    pub create: Option<String>,
    /// `POST …/Messages/{IM}`, 200.
    pub update: Option<String>,
}

/// The baseline role's `main`: read [`Bodies`] as JSON from stdin, bind a free loopback
/// port, announce it like the emulator does, and serve until killed.
pub fn main() -> ExitCode {
    let bodies: Bodies = match serde_json::from_reader(std::io::stdin().lock()) {
        Ok(bodies) => bodies,
        Err(error) => {
            eprintln!("baseline: bodies on stdin: {error}");
            return ExitCode::FAILURE;
        }
    };
    // The same runtime as the emulator's `#[tokio::main]`: one worker per core.
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    runtime.block_on(async {
        let listener = match TcpListener::bind("127.0.0.1:0").await {
            Ok(listener) => listener,
            Err(error) => {
                eprintln!("baseline: bind: {error}");
                return ExitCode::FAILURE;
            }
        };
        let address = listener.local_addr().expect("a bound listener has an address");
        println!("listening on http://{address}");
        match axum::serve(listener, router(bodies)).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("baseline: {error}");
                ExitCode::FAILURE
            }
        }
    })
}

fn router(bodies: Bodies) -> Router {
    let fetch = answer(StatusCode::OK, bodies.fetch);
    let list = answer(StatusCode::OK, bodies.list);
    let create = answer(StatusCode::CREATED, bodies.create);
    let update = answer(StatusCode::OK, bodies.update);
    // POST handlers take the body, as the emulator's do, so both read the same bytes.
    Router::new()
        .route(
            "/v1/Conversations/{ConversationSid}/Messages",
            get(move || async move { list.respond() }).post(move |_: Bytes| async move { create.respond() }),
        )
        .route(
            "/v1/Conversations/{ConversationSid}/Messages/{MessageSid}",
            get(move || async move { fetch.respond() })
                .post(move |_: Bytes| async move { update.respond() })
                .delete(|| async { StatusCode::NO_CONTENT }),
        )
}

/// A canned answer; cloning the body only bumps a reference count.
#[derive(Clone)]
struct Answer {
    status: StatusCode,
    body: Option<Bytes>,
}

fn answer(status: StatusCode, body: Option<String>) -> Answer {
    Answer { status, body: body.map(Bytes::from) }
}

impl Answer {
    fn respond(&self) -> Response {
        match &self.body {
            Some(body) => (self.status, [(CONTENT_TYPE, "application/json")], body.clone()).into_response(),
            None => (StatusCode::INTERNAL_SERVER_ERROR, "no body for this route").into_response(),
        }
    }
}
