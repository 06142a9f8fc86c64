//! The page-load benchmark's bare wasm app (`cargo xtask bench`), as the bare handler is
//! the HTTP scenarios': it does only what the SPA's first screen must (take the shell
//! away, put up the sign-in section, mark `app:sign-in-ready`), with plain DOM calls and
//! no framework. The bench builds it like the SPA, pads its module to the SPA's size and
//! serves it from the product's backend with the SPA's page, loader and headers: what
//! this takes is what any wasm app pays there, and what the SPA takes beyond it is its
//! own start-up.

use web_sys::{Document, Element};

/// The SPA's shell element (`frontend/index.html`).
const SHELL_ID: &str = "shell";
/// The mark the benchmark waits for (`frontend/src/marks.rs`).
const SIGN_IN_READY: &str = "app:sign-in-ready";

fn main() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Some(document) = window.document() else {
        return;
    };
    if let Some(shell) = document.get_element_by_id(SHELL_ID) {
        shell.remove();
    }
    if mount(&document).is_none() {
        return;
    }
    if let Some(performance) = window.performance() {
        let _ = performance.mark(SIGN_IN_READY);
    }
}

/// The same elements as the SPA's signed-out first screen: the top bar and the sign-in
/// card with one provider's button.
fn mount(document: &Document) -> Option<()> {
    let body = document.body()?;
    let header = element(document, "header", "topbar", None)?;
    let brand = element(document, "a", "brand", Some("Repo Desk"))?;
    brand.set_attribute("href", "/").ok()?;
    header.append_child(&brand).ok()?;
    let main = element(document, "main", "container", None)?;
    let card = element(document, "section", "card hero", None)?;
    let title = element(document, "h1", "", Some("Sign in"))?;
    card.append_child(&title).ok()?;
    let text = "See your profile, your repositories and your sessions in one place.";
    let lead = element(document, "p", "lead", Some(text))?;
    card.append_child(&lead).ok()?;
    let providers = element(document, "div", "providers", None)?;
    let button = element(
        document,
        "button",
        "btn primary",
        Some("Sign in with GitHub"),
    )?;
    providers.append_child(&button).ok()?;
    card.append_child(&providers).ok()?;
    main.append_child(&card).ok()?;
    body.append_child(&header).ok()?;
    body.append_child(&main).ok()?;
    Some(())
}

fn element(document: &Document, tag: &str, class: &str, text: Option<&str>) -> Option<Element> {
    let element = document.create_element(tag).ok()?;
    if !class.is_empty() {
        element.set_class_name(class);
    }
    element.set_text_content(text);
    Some(element)
}
