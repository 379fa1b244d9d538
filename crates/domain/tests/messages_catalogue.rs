//! The message catalogue is complete and consistent with the code that uses it, and the
//! copy the UI and the station pages read is the catalogue as it is now.
//!
//! After editing `crates/domain/messages/catalogue.json`, refresh the export with
//! `LIFEBRIDGE_BLESS=1 cargo test -p lifebridge-domain --test messages_catalogue`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use lifebridge_domain::messages::{catalogue, export_json, placeholders};

/// Where a language may leave out a parameter the other needs, and why.
const ONE_LANGUAGE_PARAMS: &[(&str, &str)] = &[
    // English says only the date; zh-CN repeats the age the donor reaches on it.
    ("eligibility.age_below_min.when", "min"),
    // "3小时5分" but "3h05m".
    ("handoff.discrepancy.over_time_limit", "minutes"),
    ("handoff.discrepancy.over_time_limit", "minutes_padded"),
    ("unit.over_time_limit", "minutes"),
    ("unit.over_time_limit", "minutes_padded"),
    ("unit.ffp_window_missed", "minutes"),
    ("unit.ffp_window_missed", "minutes_padded"),
    // The zh-CN half of these refusals never listed the allowed classes, nor (for a
    // wrong class) why, nor the bag set's English kind.
    ("packing.excluded", "allowed"),
    ("packing.wrong_class", "why"),
    ("packing.wrong_class", "allowed"),
    ("packing.platelets_need_bag_set", "kind"),
    ("packing.other_drive", "site"),
    ("packing.other_drive", "date"),
    ("packing.other_drive", "box_code"),
    ("packing.already_packed", "dispatched"),
    ("packing.duplicate_box_code", "class"),
    ("packing.nothing_to_dispatch", "empty"),
    // The zh-CN text names who is asked; the English one does not.
    ("receiving.locked_out", "who"),
    // The English text says how long the lock-out lasts.
    ("receiving.wrong_pin", "minutes"),
    // The zh-CN texts never carried a parser's English detail, nor the desk's list of
    // allowed pieces, nor the name of who signed twice.
    ("receiving.scan_not_a_din", "detail"),
    ("receiving.typed_din", "detail"),
    ("receiving.piece_not_listed", "allowed"),
    ("scan.unreadable", "detail"),
    ("handoff.same_signatory", "name"),
    ("manifest_qr.not_a_manifest_code", "prefix"),
    ("manifest_qr.not_a_manifest_code", "start"),
    ("manifest_qr.unsupported_version", "prefix"),
    ("manifest_qr.malformed_part", "reason"),
    ("manifest_qr.corrupt", "detail"),
    ("manifest_qr.not_a_manifest", "detail"),
    // A library's English reason (the CSV reader, the identity-document parser, the
    // PIN hasher): the zh-CN text says what is wrong without it.
    ("staff_account.pin_not_hashed", "detail"),
    ("appointments.csv", "detail"),
    ("appointments.bad_document", "detail"),
    ("logger_csv.header_unreadable", "detail"),
    ("logger_csv.row_unreadable", "detail"),
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn sources(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            if !matches!(
                name.as_ref(),
                "target" | "node_modules" | "generated" | "dist"
            ) {
                sources(&path, exts, out);
            }
        } else if exts.iter().any(|e| name.ends_with(e)) {
            out.push(path);
        }
    }
}

/// Every quoted literal in `text` that looks like a catalogue code of one of
/// `namespaces` (`"eligibility.hbsag_positive"`, `'handoff.missing'`).
fn code_literals(text: &str, namespaces: &BTreeSet<&str>, out: &mut BTreeSet<String>) {
    for quote in ['"', '\''] {
        for (i, piece) in text.split(quote).enumerate() {
            if i % 2 == 0 && quote == '"' {
                continue;
            }
            let looks = !piece.is_empty()
                && piece.contains('.')
                && piece
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.');
            let ns = piece.split('.').next().unwrap_or_default();
            if looks && namespaces.contains(ns) {
                out.insert(piece.to_owned());
            }
        }
    }
}

#[test]
fn every_entry_has_both_languages_and_the_same_placeholders() {
    let cat = catalogue();
    assert!(cat.len() > 30, "the catalogue did not parse");
    for (code, entry) in cat {
        assert!(!entry.zh.trim().is_empty(), "{code}: no zh-CN text");
        assert!(!entry.en.trim().is_empty(), "{code}: no English text");
        let zh: BTreeSet<&str> = placeholders(&entry.zh).into_iter().collect();
        let en: BTreeSet<&str> = placeholders(&entry.en).into_iter().collect();
        let differ: Vec<&str> = zh.symmetric_difference(&en).copied().collect();
        for name in differ {
            assert!(
                ONE_LANGUAGE_PARAMS.contains(&(code.as_str(), name)),
                "{code}: {{{name}}} is in one language only"
            );
        }
    }
}

#[test]
fn every_code_the_code_uses_is_in_the_catalogue_and_none_is_unused() {
    let cat = catalogue();
    let namespaces: BTreeSet<&str> = cat.keys().filter_map(|c| c.split('.').next()).collect();
    let root = workspace();
    let mut rust = Vec::new();
    for dir in ["crates", "src-tauri/src"] {
        sources(&root.join(dir), &[".rs"], &mut rust);
    }
    let mut used = BTreeSet::new();
    // This file names codes only as examples.
    rust.retain(|p| !p.ends_with("messages_catalogue.rs"));
    for path in &rust {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        // Only double-quoted literals are strings in Rust.
        let mut found = BTreeSet::new();
        code_literals(&text, &namespaces, &mut found);
        for code in &found {
            assert!(
                cat.contains_key(code),
                "{} uses {code:?}, which the catalogue does not have",
                path.display()
            );
        }
        used.extend(found);
    }
    // The pages may name a code too (a message they build themselves).
    let mut pages = Vec::new();
    sources(&root.join("ui/src"), &[".ts", ".tsx"], &mut pages);
    sources(&root.join("crates/station/ui"), &[".js"], &mut pages);
    for path in &pages {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        code_literals(&text, &namespaces, &mut used);
    }
    let unused: Vec<&String> = cat.keys().filter(|c| !used.contains(*c)).collect();
    assert!(
        unused.is_empty(),
        "catalogue codes no code uses: {unused:?}"
    );
}

#[test]
fn the_exported_copy_is_the_catalogue() {
    let path = workspace().join("ui/src/messages.json");
    let expected = export_json();
    if std::env::var_os("LIFEBRIDGE_BLESS").is_some() {
        std::fs::write(&path, &expected).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    // Compare parsed too, so the message names the first code that differs.
    let parse = |s: &str| serde_json::from_str::<BTreeMap<String, serde_json::Value>>(s).ok();
    if let (Some(a), Some(e)) = (parse(&actual), parse(&expected)) {
        for (code, entry) in &e {
            assert_eq!(
                a.get(code),
                Some(entry),
                "{code} differs in {}",
                path.display()
            );
        }
    }
    assert!(
        actual == expected,
        "{} is not the catalogue: run LIFEBRIDGE_BLESS=1 cargo test -p lifebridge-domain --test messages_catalogue",
        path.display()
    );
}
