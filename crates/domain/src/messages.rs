//! The one message catalogue: every sentence a person reads about a refusal or a
//! finding, in zh-CN and English, keyed by a stable code.
//!
//! The text is data (`crates/domain/messages/catalogue.json`, embedded at build time),
//! never code: a [`Message`] is a code with named parameters, so it crosses the wire and
//! the Tauri IPC as `{code, params}` and each reader renders it in its own language —
//! the CLI and the station with [`render`], the app and the station pages from the same
//! catalogue exported as `ui/src/messages.json`. `Display` of an error that
//! carries a `Message` is the English rendering, for logs.
//!
//! A template names its parameters in braces, `{din}`; `{from|cap}` capitalises the
//! first letter of what `from` renders to (an English sentence that opens with it);
//! `{findings|semi}` joins a list with `；` / `; ` (items that are clauses themselves).
//! A parameter is plain text (figures are formatted before they go in, so both
//! languages show the same digits), another message (rendered in the same language), a
//! list (joined with `、` in zh-CN and `, ` in English) or text a rules table gives in
//! both languages.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// The catalogue as embedded; exported unchanged for the UI and the station pages.
pub const CATALOGUE_JSON: &str = include_str!("../messages/catalogue.json");

/// Language a message is rendered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Lang {
    #[default]
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

impl FromStr for Lang {
    type Err = UnknownLang;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "zh-cn" | "zh" | "zh-hans" => Ok(Lang::ZhCn),
            "en" | "en-gb" | "en-us" => Ok(Lang::En),
            _ => Err(UnknownLang(s.to_owned())),
        }
    }
}

impl Lang {
    /// The language of a POSIX locale such as `LANG=en_GB.UTF-8`; zh-CN for anything
    /// that is not English (the brief's default).
    pub fn from_locale(locale: &str) -> Lang {
        let base = locale.split(['.', '@']).next().unwrap_or_default();
        match base.parse::<Lang>() {
            Ok(lang) => lang,
            Err(_) if base.to_ascii_lowercase().starts_with("en") => Lang::En,
            Err(_) => Lang::ZhCn,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown language {0:?}: allowed zh-CN or en")]
pub struct UnknownLang(pub String);

/// A sentence for a person: a catalogue code and its parameters.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Message {
    pub code: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, Param>,
}

/// One parameter of a [`Message`].
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Param {
    /// The same in both languages: a DIN, a box code, a formatted figure or date.
    Text(String),
    /// Items joined in the language's way.
    List(Vec<Param>),
    /// Text a rules table gives in both languages (a deferral's name).
    Localized(Localized),
    /// A phrase of its own, rendered in the same language.
    Message(Message),
}

/// Text given in both languages by data outside the catalogue (the rules table).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Localized {
    #[serde(rename = "zh-CN")]
    pub zh: String,
    pub en: String,
}

impl Message {
    pub fn new(code: &str) -> Message {
        Message {
            code: code.to_owned(),
            params: BTreeMap::new(),
        }
    }

    /// Adds the parameter `name`.
    #[must_use]
    pub fn with(mut self, name: &str, value: impl Into<Param>) -> Message {
        self.params.insert(name.to_owned(), value.into());
        self
    }

    pub fn render(&self, lang: Lang) -> String {
        render(self, lang)
    }
}

/// English, for logs and error chains.
impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&render(self, Lang::En))
    }
}

impl From<String> for Param {
    fn from(s: String) -> Param {
        Param::Text(s)
    }
}

impl From<&str> for Param {
    fn from(s: &str) -> Param {
        Param::Text(s.to_owned())
    }
}

impl From<Message> for Param {
    fn from(m: Message) -> Param {
        Param::Message(m)
    }
}

impl From<Localized> for Param {
    fn from(l: Localized) -> Param {
        Param::Localized(l)
    }
}

impl<T: Into<Param>> From<Vec<T>> for Param {
    fn from(items: Vec<T>) -> Param {
        Param::List(items.into_iter().map(Into::into).collect())
    }
}

/// An optional phrase: empty when absent.
impl<T: Into<Param>> From<Option<T>> for Param {
    fn from(value: Option<T>) -> Param {
        value.map_or(Param::Text(String::new()), Into::into)
    }
}

/// One catalogue entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    #[serde(rename = "zh-CN")]
    pub zh: String,
    pub en: String,
}

impl Entry {
    pub fn text(&self, lang: Lang) -> &str {
        match lang {
            Lang::ZhCn => &self.zh,
            Lang::En => &self.en,
        }
    }
}

/// The parsed catalogue, code → entry.
pub fn catalogue() -> &'static BTreeMap<String, Entry> {
    static CATALOGUE: OnceLock<BTreeMap<String, Entry>> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        // Embedded at build time and checked by this module's tests, so a broken
        // catalogue never reaches a release; an empty one would show the codes.
        serde_json::from_str(CATALOGUE_JSON).unwrap_or_default()
    })
}

/// `message` in `lang`. A code missing from the catalogue renders as the code itself
/// (the tests make sure none is).
pub fn render(message: &Message, lang: Lang) -> String {
    let Some(entry) = catalogue().get(&message.code) else {
        return message.code.clone();
    };
    fill(entry.text(lang), &message.params, lang)
}

fn render_param(param: &Param, lang: Lang, filter: &str) -> String {
    match param {
        Param::Text(s) => s.clone(),
        Param::List(items) => items
            .iter()
            .map(|p| render_param(p, lang, ""))
            .collect::<Vec<_>>()
            .join(match (lang, filter) {
                (Lang::ZhCn, "semi") => "；",
                (Lang::En, "semi") => "; ",
                (Lang::ZhCn, _) => "、",
                (Lang::En, _) => ", ",
            }),
        Param::Localized(l) => match lang {
            Lang::ZhCn => l.zh.clone(),
            Lang::En => l.en.clone(),
        },
        Param::Message(m) => render(m, lang),
    }
}

/// `message` in both languages, `first` first, joined by " / ": what paper carries that
/// readers of either language handle (a label's piece name, a manifest's captions and
/// unit statuses). Screens and the CLI render one language instead.
pub fn bilingual(message: &Message, first: Lang) -> String {
    let second = match first {
        Lang::ZhCn => Lang::En,
        Lang::En => Lang::ZhCn,
    };
    format!("{} / {}", render(message, first), render(message, second))
}

/// Replaces each `{name}` / `{name|cap}` of `template`; an unknown name stays as written.
fn fill(template: &str, params: &BTreeMap<String, Param>, lang: Lang) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let spec = &after[..close];
        let (name, filter) = spec.split_once('|').unwrap_or((spec, ""));
        match params.get(name) {
            Some(p) => {
                let text = render_param(p, lang, filter);
                if filter == "cap" {
                    let mut chars = text.chars();
                    if let Some(first) = chars.next() {
                        out.extend(first.to_uppercase());
                        out.push_str(chars.as_str());
                    }
                } else {
                    out.push_str(&text);
                }
            }
            None => {
                out.push('{');
                out.push_str(spec);
                out.push('}');
            }
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// The placeholder names of a template, in order of appearance.
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        let spec = &after[..close];
        names.push(spec.split_once('|').map_or(spec, |(n, _)| n));
        rest = &after[close + 1..];
    }
    names
}

/// The catalogue as the UI and the station pages read it: code → {"zh-CN", "en"},
/// pretty-printed with sorted codes so a change reads well in a diff.
pub fn export_json() -> String {
    let mut text = serde_json::to_string_pretty(catalogue()).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lang_parses_and_defaults_to_chinese() {
        assert_eq!("zh-CN".parse::<Lang>().ok(), Some(Lang::ZhCn));
        assert_eq!(Lang::from_locale("en_GB.UTF-8"), Lang::En);
        assert_eq!(Lang::from_locale("zh_CN.UTF-8"), Lang::ZhCn);
        assert_eq!(Lang::from_locale("C"), Lang::ZhCn);
        assert_eq!(Lang::from_locale(""), Lang::ZhCn);
    }

    #[test]
    fn fills_nested_lists_and_capitals() {
        let params: BTreeMap<String, Param> = [
            ("a".to_owned(), Param::from(vec!["1", "2"])),
            (
                "b".to_owned(),
                Param::Localized(Localized {
                    zh: "全血".into(),
                    en: "whole blood".into(),
                }),
            ),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            fill("{a} {b|cap} {c}", &params, Lang::En),
            "1, 2 Whole blood {c}"
        );
        assert_eq!(fill("{a}：{b}", &params, Lang::ZhCn), "1、2：全血");
        assert_eq!(placeholders("x {a} {b|cap}"), ["a", "b"]);
        assert_eq!(fill("{a|semi}", &params, Lang::ZhCn), "1；2");
        assert_eq!(fill("{a|semi}", &params, Lang::En), "1; 2");
    }

    #[test]
    fn crosses_the_wire_as_code_and_params() {
        let m = Message::new("example.code").with("pieces", vec![Message::new("x")]);
        let json = serde_json::to_value(&m).ok();
        assert_eq!(
            json,
            Some(
                serde_json::json!({"code": "example.code", "params": {"pieces": [{"code": "x"}]}})
            )
        );
        let back: Option<Message> = json.and_then(|j| serde_json::from_value(j).ok());
        assert_eq!(back, Some(m));
    }
}
