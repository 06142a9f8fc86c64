//! "Your API": the example APIs behind the BFF, when this deployment has them. The
//! upstream (`/api/example`) says whom it verified from the BFF's identity token, a
//! handler inside the BFF (`/api/greetings`) greets, and a WebSocket through the BFF
//! shows a live line until it closes (the BFF closes it when the session ends).

use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast as _;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

use crate::api::{self, Verified};

/// The panel; nothing at all when the example upstream is not configured (or not
/// answering: the rest of the dashboard does not depend on it).
#[component]
pub fn YourApi() -> impl IntoView {
    let answers = RwSignal::new(None::<(Verified, Option<String>)>);
    leptos::task::spawn_local(async move {
        // Asked first, so a deployment without the examples makes no failing request.
        let Ok(offered) = api::providers().await.map(|p| p.apis) else {
            return;
        };
        let has = |prefix: &str| offered.iter().any(|a| a == prefix);
        if !has("example") {
            return;
        }
        if let Ok(Some(verified)) = api::example_whoami().await {
            let greeting = match has("greetings") {
                true => api::greeting().await.ok().flatten().map(|g| g.text),
                false => None,
            };
            answers.try_set(Some((verified, greeting)));
        }
    });
    move || {
        answers
            .get()
            .map(|(verified, greeting)| view! { <Panel verified greeting/> })
    }
}

#[component]
fn Panel(
    /// What the upstream verified.
    verified: Verified,
    /// What the local handler said, if it is there.
    greeting: Option<String>,
) -> impl IntoView {
    let live = RwSignal::new(String::from("connecting…"));
    let open = RwSignal::new(false);
    let socket = connect(live, open);
    on_cleanup(move || {
        if let Some(socket) = socket {
            let _ = socket.close();
        }
    });
    let session: String = verified.sid.chars().take(8).collect();
    let expires = format!(
        "{}m {}s",
        verified.expires_in / 60,
        verified.expires_in % 60
    );
    view! {
        <section class="card your-api" data-testid="your-api">
            <h2>"Your API"</h2>
            <p class="verified" data-testid="verified">
                "Your API verified: " <strong>{verified.login}</strong>
                ", session " <code>{session}"…"</code>
                ", token expires in " {expires}
            </p>
            {greeting.map(|text| view! {
                <p class="greeting">"A handler inside the BFF says: " {text}</p>
            })}
            <p class="live" data-testid="live" data-open=move || open.get().to_string()>
                "Live: " {move || live.get()}
            </p>
        </section>
    }
}

/// Opens the example's WebSocket on this origin; its messages and its closing go to
/// `live`. `None` if the browser refused to open one.
fn connect(live: RwSignal<String>, open: RwSignal<bool>) -> Option<WebSocket> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    let url = format!("{scheme}://{}/api/example/ws", location.host().ok()?);
    let socket = WebSocket::new(&url).ok()?;
    let on_open = Closure::<dyn FnMut()>::new(move || open.set(true));
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        if let Some(text) = event.data().as_string() {
            live.set(describe(&text));
        }
    });
    let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
        open.set(false);
        let reason = event.reason();
        live.set(if reason.is_empty() {
            format!("closed ({})", event.code())
        } else {
            format!("closed: {reason} ({})", event.code())
        });
    });
    socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    // The socket holds the handlers for its life; they are small and a dashboard opens
    // one socket per visit.
    on_open.forget();
    on_message.forget();
    on_close.forget();
    Some(socket)
}

/// One message of the example upstream: `{"hello":…}`, `{"tick":n}` or `{"echo":…}`.
#[derive(serde::Deserialize)]
struct Line {
    hello: Option<String>,
    tick: Option<u64>,
}

/// A message of the example upstream as a line for people.
fn describe(text: &str) -> String {
    match serde_json::from_str::<Line>(text) {
        Ok(Line {
            hello: Some(login), ..
        }) => format!("connected as {login}"),
        Ok(Line { tick: Some(n), .. }) => format!("tick {n}"),
        _ => text.to_owned(),
    }
}
