//! `--multi-turn` in the executor, against a loopback server that keeps every request body:
//! turn k sends the conversation's turns with the answers received before it, verbatim.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use swarm_agent::perf::{ShardEvent, run_shard};
use swarm_common::metrics::RequestRecord;
use swarm_common::multi_turn::MultiTurnSpec;
use swarm_common::prompt::{Prompt, PromptBody};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio_util::sync::CancellationToken;

use crate::session_fake::closed_spec;

/// Bodies received, in order.
type Seen = Arc<Mutex<Vec<Value>>>;

/// The answer to the `n`th request: two pieces when streamed, so the text is their join.
fn answer(n: usize) -> (String, String) {
    (format!("answer {n} "), format!("with tail {n}"))
}

/// One connection: reads a request, answers, closes. The request whose last user message is
/// `fail` gets a 500.
async fn serve_one(stream: tokio::net::TcpStream, seen: Seen) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let l = line.trim_end().to_ascii_lowercase();
        if l.is_empty() {
            break;
        }
        if let Some(v) = l.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await?;
    let req: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let n = {
        let mut s = seen.lock().expect("lock");
        s.push(req.clone());
        s.len() - 1
    };
    let last_user = req["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or("")
        .to_string();
    let (a, b) = answer(n);
    let mut usage = json!({"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5,
        "prompt_tokens_details": {"cached_tokens": 1}});
    if last_user.starts_with("uncounted") {
        // a server that does not say what it cached
        usage["prompt_tokens_details"] = Value::Null;
    }
    let (status, kind, payload) = if last_user == "fail" {
        (
            "500 Internal Server Error",
            "application/json",
            "{\"error\":{\"message\":\"no\"}}".to_string(),
        )
    } else if req["stream"] == true {
        let chunk = |c: &str| json!({"choices": [{"index": 0, "delta": {"content": c}}]});
        let done = json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]});
        let tail = json!({"choices": [], "usage": usage});
        let events = [chunk(&a), chunk(&b), done, tail]
            .iter()
            .map(|e| format!("data: {e}\n\n"))
            .collect::<String>()
            + "data: [DONE]\n\n";
        ("200 OK", "text/event-stream", events)
    } else {
        let whole = json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": format!("{a}{b}")}, "finish_reason": "stop"}], "usage": usage});
        ("200 OK", "application/json", whole.to_string())
    };
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {kind}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        payload.len()
    );
    let mut stream = reader.into_inner();
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(payload.as_bytes()).await?;
    stream.shutdown().await
}

/// A loopback server; its URL and what it saw.
async fn recorder() -> (String, Seen) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let seen: Seen = Arc::default();
    let s = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve_one(stream, s.clone()));
        }
    });
    (url, seen)
}

fn conversation(turns: &[&str]) -> Prompt {
    Prompt {
        body: PromptBody::Conversation {
            turns: turns
                .iter()
                .map(|t| vec![json!({"role": "user", "content": t})])
                .collect(),
        },
        tokens: None,
    }
}

async fn run(
    stream: bool,
    prompts: Vec<Prompt>,
    number: u64,
    think_time_s: f64,
) -> (Vec<RequestRecord>, Vec<Value>, u64) {
    let (url, seen) = recorder().await;
    let mut spec = closed_spec(&url, "w/mt/0", 1, number, 30.0);
    spec.gen_params.stream = stream;
    spec.prompts.total = prompts.len() as u64;
    spec.prompts.count = prompts.len() as u64;
    spec.multi_turn = Some(MultiTurnSpec { think_time_s });
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let out = run_shard(spec, Arc::new(prompts), None, tx, CancellationToken::new())
        .await
        .expect("runs");
    let mut recs = Vec::new();
    while let Ok(ev) = rx.try_recv() {
        if let ShardEvent::Record(r) = ev {
            recs.push(r);
        }
    }
    let bodies = seen.lock().expect("lock").clone();
    (recs, bodies, out.requests)
}

/// The messages of a body, as (role, content) pairs.
fn messages(body: &Value) -> Vec<(String, String)> {
    body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| {
            (
                m["role"].as_str().expect("role").to_string(),
                m["content"].as_str().expect("content").to_string(),
            )
        })
        .collect()
}

fn pairs(items: &[(&str, String)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(r, c)| (r.to_string(), c.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn turn_k_sends_the_streamed_answers_before_it_verbatim() {
    for stream in [true, false] {
        let prompts = vec![
            conversation(&["q1", "q2", "q3"]),
            conversation(&["r1", "r2"]),
        ];
        let (recs, bodies, conversations) = run(stream, prompts, 2, 0.0).await;
        assert_eq!(conversations, 2, "number counts conversations");
        assert_eq!(bodies.len(), 5, "3 + 2 turns");
        let a = |n: usize| {
            let (x, y) = answer(n);
            x + &y
        };
        // one user at a time: conversation 0's turns are requests 0..3, conversation 1's 3..5
        assert_eq!(messages(&bodies[0]), pairs(&[("user", "q1".into())]));
        assert_eq!(
            messages(&bodies[2]),
            pairs(&[
                ("user", "q1".into()),
                ("assistant", a(0)),
                ("user", "q2".into()),
                ("assistant", a(1)),
                ("user", "q3".into()),
            ]),
            "stream {stream}"
        );
        assert_eq!(
            messages(&bodies[4]),
            pairs(&[
                ("user", "r1".into()),
                ("assistant", a(3)),
                ("user", "r2".into())
            ]),
            "a new conversation starts from its own first turn"
        );
        let marks: Vec<(Option<u64>, Option<u32>)> =
            recs.iter().map(|r| (r.conversation, r.turn)).collect();
        assert_eq!(
            marks,
            vec![
                (Some(0), Some(0)),
                (Some(0), Some(1)),
                (Some(0), Some(2)),
                (Some(1), Some(0)),
                (Some(1), Some(1)),
            ]
        );
        let mut ids: Vec<u64> = recs.iter().map(|r| r.id).collect();
        ids.dedup();
        assert_eq!(
            ids,
            vec![0, 1, 2, 3, 4],
            "record ids unique within the shard"
        );
        assert!(recs.iter().all(|r| r.cached_tokens == 1 && r.is_success()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_turn_ends_its_conversation_and_think_time_separates_turns() {
    let prompts = vec![
        conversation(&["a1", "fail", "never sent"]),
        conversation(&["b1", "b2"]),
    ];
    let (recs, bodies, conversations) = run(true, prompts, 2, 0.2).await;
    assert_eq!(conversations, 2);
    assert_eq!(bodies.len(), 4, "the turn after the failure is not sent");
    assert_eq!(recs.len(), 4);
    assert!(!recs[1].is_success(), "the failed turn is recorded");
    assert_eq!(recs[2].conversation, Some(1));
    // b2 waits the think time after b1's answer
    let gap = recs[3].sent_us.saturating_sub(recs[2].done_us());
    assert!(gap >= 200_000, "think time kept: {gap} µs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_server_count_cached_tokens_are_evalscopes_estimate() {
    let prompts = vec![conversation(&["uncounted 1", "uncounted 2", "uncounted 3"])];
    let (recs, _, _) = run(true, prompts, 1, 0.0).await;
    // every turn: 3 prompt and 2 completion tokens; a later turn's estimate is the previous
    // turn's prompt and answer
    let cached: Vec<u32> = recs.iter().map(|r| r.cached_tokens).collect();
    assert_eq!(cached, vec![0, 5, 5]);
}
