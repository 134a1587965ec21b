//! The house rules of `src/`, checked by reading the sources (README, "Architecture").
//!
//! Layers, lowest first: `platform` (knows no domain), `access` (who acts, tokens, the policy),
//! the domains (`territory`, `identity`, `residents`, `tickets`, `activity`, …), and `app` (the
//! composition root, with `lib.rs` and `main.rs`). A file may import its own layer and the ones
//! below. Inside a domain, `http/` files handle requests and never touch tables or
//! transactions; every other file (model, policy, service, query, jobs) never sees HTTP. A domain
//! reads and writes only its own tables and reaches another domain through that domain's
//! `service`, `query`, `model` or `policy`, never its `http` or its tables. No module imports
//! itself through a circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The domains, each with the tables it owns. A table not listed here is the platform's.
const DOMAINS: &[(&str, &[&str])] = &[
    (
        "territory",
        &[
            "street",
            "community",
            "property_company",
            "compound",
            "grid",
            "grid_area",
            "building",
            "household",
        ],
    ),
    (
        "identity",
        &[
            "user",
            "role_assignment",
            "refresh_token",
            "login_failure",
            "binding_request",
        ],
    ),
    (
        "residents",
        &[
            "resident",
            "resident_tag",
            "community_public_tag",
            "resident_transfer",
        ],
    ),
    (
        "tickets",
        &[
            "ticket",
            "ticket_category",
            "ticket_message",
            "ticket_policy",
        ],
    ),
    (
        "notices",
        &["notice", "notice_recipient", "notice_household_reach"],
    ),
    ("offices", &["office_term"]),
    (
        "polls",
        &[
            "poll",
            "poll_question",
            "poll_option",
            "poll_roll",
            "poll_ballot",
            "ballot_choice",
            "poll_box",
            "poll_tally",
            "poll_result",
            "poll_officer",
        ],
    ),
    (
        "funds",
        &[
            "fund_account",
            "fund_entry",
            "fund_expense",
            "fund_expense_approval",
            "fund_allocation",
            "fund_allocation_approval",
        ],
    ),
    ("pledges", &["pledge"]),
    (
        "elections",
        &[
            "election",
            "election_position",
            "election_officer",
            "candidate",
            "candidate_nominator",
            "roll_objection",
        ],
    ),
    (
        "proposals",
        &[
            "proposal",
            "proposal_revision",
            "proposal_support",
            "proposal_event",
            "proposal_update",
            "proposal_milestone",
            "proposal_acceptance",
            "proposal_target",
            "consultation_policy",
        ],
    ),
    ("deliberation", &["comment", "comment_report"]),
    ("activity", &[]),
    // The keyword lists it keeps are `platform::content`'s table: the check reads them.
    ("moderation", &[]),
];

/// Tables `access` may read besides its own: the policy resolves an assignment at a grid or a
/// street into the territory below it, and loads the caller's account and assignments.
const ACCESS_READS: &[&str] = &[
    "street",
    "community",
    "compound",
    "grid",
    "grid_area",
    "building",
    "household",
    "user",
    "role_assignment",
    "refresh_token",
    "login_failure",
];

/// Read models allowed to read other domains' tables, each with the reason. Keep this short:
/// every entry is a place where a change to another domain's table can break a screen here.
const CROSS_DOMAIN_READS: &[(&str, &[&str], &str)] = &[
    (
        "tickets/query/names.rs",
        &[
            "building",
            "community",
            "compound",
            "household",
            "property_company",
            "user",
        ],
        "the names a page of tickets shows come in one UNION ALL statement of primary-key lookups \
         (one round trip per page, not one per domain)",
    ),
    (
        "notices/service/audience.rs",
        &[
            "household",
            "resident",
            "resident_tag",
            "role_assignment",
            "user",
        ],
        "publishing a notice writes all its recipients in one INSERT … SELECT over the accounts \
         bound to households of its place (with their tags), and a receipt's household totals \
         are one grouped count: neither can be a chain of calls through three domains",
    ),
    (
        "polls/service/roster.rs",
        &["household", "resident", "resident_tag"],
        "a poll's voter roll is written from the roster in one INSERT … SELECT when it opens (and \
         frozen with its hash), a roll view names a page of entries in two lookups, and a poll's \
         notifications go to the accounts bound to its roll in one statement",
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Layer {
    Platform,
    Access,
    Domain,
    App,
}

struct Source {
    /// Path under `src/`, with `/`.
    path: String,
    /// The module path (`tickets::service::workflow`).
    module: String,
    /// The code with comments and string literals blanked out, line by line.
    code: Vec<String>,
}

impl Source {
    fn layer(&self) -> Layer {
        match self.top() {
            "platform" => Layer::Platform,
            "access" => Layer::Access,
            "app" | "lib.rs" | "main.rs" => Layer::App,
            _ => Layer::Domain,
        }
    }

    fn top(&self) -> &str {
        self.path.split('/').next().unwrap_or("")
    }

    fn is_http(&self) -> bool {
        self.layer() == Layer::Domain && self.path.split('/').nth(1) == Some("http")
    }
}

fn sources() -> Vec<Source> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let path = p
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let mut parts: Vec<&str> = path.trim_end_matches(".rs").split('/').collect();
            if matches!(parts.last(), Some(&"mod") | Some(&"lib") | Some(&"main")) {
                parts.pop();
            }
            let module = parts.join("::");
            let text = std::fs::read_to_string(&p).unwrap();
            Source {
                path,
                module,
                code: without_tests(&blank(&text)),
            }
        })
        .collect()
}

/// The text with comments and the contents of string literals replaced by spaces, so a word in
/// a doc comment or a message is not taken for code.
fn blank(text: &str) -> String {
    let b: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i < b.len() && !(b[i] == '*' && b.get(i + 1) == Some(&'/')) {
                if b[i] == '\n' {
                    out.push('\n');
                }
                i += 1;
            }
            i += 2;
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !ident_before(&b, i) {
            // A raw string: r"…", r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            out.push('"');
            'raw: while j < b.len() {
                if b[j] == '"' && (0..hashes).all(|k| b.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break 'raw;
                }
                if b[j] == '\n' {
                    out.push('\n');
                }
                j += 1;
            }
            out.push('"');
            i = j;
        } else if c == '"' {
            out.push('"');
            i += 1;
            while i < b.len() && b[i] != '"' {
                if b[i] == '\\' {
                    i += 1;
                }
                if b.get(i) == Some(&'\n') {
                    out.push('\n');
                }
                i += 1;
            }
            out.push('"');
            i += 1;
        } else if c == '\'' && next.is_some() && b.get(i + 2) == Some(&'\'') {
            out.push_str("' '");
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn ident_before(b: &[char], i: usize) -> bool {
    i > 0 && (b[i - 1].is_alphanumeric() || b[i - 1] == '_')
}

/// The lines before a `#[cfg(test)]` module (unit tests may build whatever they test with),
/// with a `use` that rustfmt spread over several lines joined into its first line, so a group
/// like `use entity::{\n    ticket,\n};` is read whole.
fn without_tests(code: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    // The line of a `use` still open.
    let mut open_use: Option<usize> = None;
    for line in code.lines() {
        if line.trim() == "#[cfg(test)]" {
            break;
        }
        if let Some(at) = open_use {
            lines[at].push(' ');
            lines[at].push_str(line.trim());
            lines.push(String::new());
            if line.contains(';') {
                open_use = None;
            }
            continue;
        }
        let t = line.trim_start();
        if (t.starts_with("use ") || t.starts_with("pub use ")) && !line.contains(';') {
            open_use = Some(lines.len());
        }
        lines.push(line.to_string());
    }
    lines
}

/// Every `crate::a::b::…` path a line names, including those inside `use crate::a::{b, c}`.
fn crate_paths(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("crate::") {
        let before = &rest[..at];
        rest = &rest[at + "crate::".len()..];
        if before.ends_with('$') {
            continue;
        }
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(rest.len());
        let path = rest[..end].trim_end_matches(':').to_string();
        if rest[end..].starts_with('{') && rest[..end].ends_with("::") {
            let close = rest[end..].find('}').map_or(rest.len(), |c| end + c);
            for item in rest[end + 1..close].split(',') {
                let item = item.split_whitespace().next().unwrap_or("");
                if !item.is_empty() && item != "self" {
                    out.push(format!("{path}::{item}"));
                } else if item == "self" {
                    out.push(path.clone());
                }
            }
        } else if !path.is_empty() {
            out.push(path);
        }
    }
    out
}

/// Whether `line` names the crate or module `word` (`sea_orm::…`), not a longer identifier
/// ending in it.
fn names(line: &str, word: &str) -> bool {
    let chars: Vec<char> = line.chars().collect();
    line.match_indices(word).any(|(i, _)| {
        let at = line[..i].chars().count();
        !ident_before(&chars, at) && line[i + word.len()..].starts_with("::")
    })
}

fn words(line: &str) -> impl Iterator<Item = &str> {
    line.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .filter(|w| !w.is_empty())
}

fn owner_of(table: &str) -> Option<&'static str> {
    DOMAINS
        .iter()
        .find(|(_, tables)| tables.contains(&table))
        .map(|(d, _)| *d)
}

/// The entity tables a line names (`entity::ticket`, `use entity::{ticket, user}`).
fn tables(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in line.match_indices("entity::") {
        if ident_before(&line.chars().collect::<Vec<_>>(), line[..i].chars().count()) {
            continue;
        }
        let rest = &line[i + "entity::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let close = group.find('}').unwrap_or(group.len());
            for item in group[..close].split(',') {
                let item = item.split_whitespace().next().unwrap_or("");
                if !item.is_empty() {
                    out.push(item.to_string());
                }
            }
        } else {
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            if end > 0 {
                out.push(rest[..end].to_string());
            }
        }
    }
    out
}

fn breaches() -> Vec<String> {
    let all = sources();
    let domains: BTreeSet<&str> = DOMAINS.iter().map(|(d, _)| *d).collect();
    let mut found = Vec::new();
    for s in &all {
        let layer = s.layer();
        let top = s.top().to_string();
        for (n, line) in s.code.iter().enumerate() {
            let at = format!("src/{}:{}", s.path, n + 1);
            let mut breach = |why: String| found.push(format!("{at}: {why}: {}", line.trim()));
            for path in crate_paths(line) {
                let first = path.split("::").next().unwrap_or("");
                let second = path.split("::").nth(1).unwrap_or("");
                let target = match first {
                    "platform" => Layer::Platform,
                    "access" => Layer::Access,
                    "app" => Layer::App,
                    d if domains.contains(d) => Layer::Domain,
                    _ => continue,
                };
                if target > layer {
                    breach(format!("{layer:?} imports {target:?} ({path})"));
                }
                if layer == Layer::Domain
                    && target == Layer::Domain
                    && first != top
                    && !matches!(second, "service" | "query" | "model" | "policy")
                {
                    breach(format!("reaches domain {first} through {second}"));
                }
            }
            for t in tables(line) {
                let owner = owner_of(&t);
                let ok = match layer {
                    Layer::App => true,
                    Layer::Platform => owner.is_none(),
                    Layer::Access => owner.is_none() || ACCESS_READS.contains(&t.as_str()),
                    Layer::Domain => {
                        owner == Some(top.as_str())
                            || CROSS_DOMAIN_READS.iter().any(|(path, tables, _)| {
                                *path == s.path && tables.contains(&t.as_str())
                            })
                    }
                };
                if !ok {
                    breach(format!(
                        "uses the table {t} of {}",
                        owner.unwrap_or("platform")
                    ));
                }
            }
            // Time comes from the caller (`state.clock` in a handler or a job), so the test clock
            // reaches every write; only the clock itself, the composition root and the JWT keys
            // (whose `exp` the JWT library checks against the wall clock) read the wall.
            if layer != Layer::App
                && !matches!(s.path.as_str(), "platform/clock.rs" | "platform/tokens.rs")
                && ["Utc::now()", "Local::now()", "SystemTime::now()"]
                    .iter()
                    .any(|c| line.contains(c))
            {
                breach("reads the wall clock instead of the now it is given".into());
            }
            if s.is_http() {
                if !tables(line).is_empty() || names(line, "sea_orm") {
                    breach("an http file uses the database".into());
                }
                if line.contains(".begin()") || line.contains(".transaction") {
                    breach("an http file opens a transaction".into());
                }
            } else if layer == Layer::Domain {
                for w in words(line) {
                    let w = w.rsplit("::").next().unwrap_or(w);
                    if matches!(
                        w,
                        "actix_web" | "AppState" | "AuthUser" | "HttpRequest" | "HttpResponse"
                    ) || line.contains("actix_web")
                    {
                        breach("a service or query file sees HTTP".into());
                        break;
                    }
                }
            }
        }
    }
    found
}

/// The module graph: an edge for every `crate::` path that names another module.
fn circles() -> Vec<Vec<String>> {
    let all = sources();
    let modules: BTreeSet<String> = all.iter().map(|s| s.module.clone()).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in &all {
        let from = s.module.clone();
        for line in &s.code {
            for path in crate_paths(line) {
                let parts: Vec<&str> = path.split("::").collect();
                let target = (1..=parts.len())
                    .rev()
                    .map(|k| parts[..k].join("::"))
                    .find(|m| modules.contains(m));
                if let Some(to) = target {
                    let nested = to.starts_with(&format!("{from}::"))
                        || from.starts_with(&format!("{to}::"))
                        || to.is_empty()
                        || from.is_empty();
                    if to != from && !nested {
                        edges.entry(from.clone()).or_default().insert(to);
                    }
                }
            }
        }
    }
    // Tarjan's strongly connected components; any with two or more modules is a circle.
    struct T<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<String, usize>,
        low: BTreeMap<String, usize>,
        stack: Vec<String>,
        on: BTreeSet<String>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    impl T<'_> {
        fn visit(&mut self, v: &str) {
            self.index.insert(v.into(), self.next);
            self.low.insert(v.into(), self.next);
            self.next += 1;
            self.stack.push(v.into());
            self.on.insert(v.into());
            let targets: Vec<String> = self
                .edges
                .get(v)
                .map(|s| s.iter().cloned().collect())
                .unwrap_or_default();
            for w in targets {
                if !self.index.contains_key(&w) {
                    self.visit(&w);
                    let l = self.low[v].min(self.low[&w]);
                    self.low.insert(v.into(), l);
                } else if self.on.contains(&w) {
                    let l = self.low[v].min(self.index[&w]);
                    self.low.insert(v.into(), l);
                }
            }
            if self.low[v] == self.index[v] {
                let mut scc = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on.remove(&w);
                    let done = w == v;
                    scc.push(w);
                    if done {
                        break;
                    }
                }
                if scc.len() > 1 {
                    scc.sort();
                    self.out.push(scc);
                }
            }
        }
    }
    let mut t = T {
        edges: &edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for m in &modules {
        if !t.index.contains_key(m) {
            t.visit(m);
        }
    }
    t.out
}

#[test]
fn every_file_keeps_to_its_layer_and_its_domain() {
    let found = breaches();
    if let Ok(only) = std::env::var("ARCHITECTURE_SHOW") {
        for b in found
            .iter()
            .filter(|b| b.starts_with(&format!("src/{only}")))
        {
            println!("{b}");
        }
    }
    assert!(
        found.is_empty(),
        "{} breaches of the house rules (README, Architecture):\n{}",
        found.len(),
        found.join("\n")
    );
}

#[test]
fn no_module_imports_itself_through_a_circle() {
    let found = circles();
    assert!(found.is_empty(), "import circles: {found:?}");
}

#[test]
fn the_scanner_sees_what_it_must() {
    // The scanner itself: a breach it cannot see would make the rules above pass vacuously.
    assert_eq!(
        crate_paths("use crate::tickets::service::{workflow, settings as s};"),
        vec!["tickets::service::workflow", "tickets::service::settings"]
    );
    assert_eq!(
        crate_paths("let x = crate::platform::error::AppError::NotFound;")[0],
        "platform::error::AppError::NotFound"
    );
    assert_eq!(
        tables("use entity::{ticket, user as u};"),
        vec!["ticket", "user"]
    );
    assert_eq!(tables("entity::resident::Entity::find()"), vec!["resident"]);
    let code =
        blank("let a = \"entity::ticket\"; // crate::platform::state\nlet b = r#\"sea_orm\"#;");
    assert!(
        !code.contains("entity::ticket")
            && !code.contains("crate::app")
            && !code.contains("sea_orm")
    );
    assert!(tables("use crate::identity::query::users;").is_empty());
    assert!(
        !names("use crate::identity::http::x;", "entity") && names("use sea_orm::X;", "sea_orm")
    );
    let joined = without_tests("use entity::{\n    ticket,\n    user,\n};\nfn f() {}");
    assert_eq!(tables(&joined[0]), vec!["ticket", "user"]);
    assert_eq!(owner_of("ticket"), Some("tickets"));
    assert_eq!(owner_of("audit_event"), None);
    // Every table in the entity crate has an owner or is knowingly the platform's.
    let platform_tables = [
        "attachment",
        "audit_event",
        "idempotency_key",
        "inbox_message",
        "notification",
        "timeline_event",
        "content_keyword",
    ];
    // Value types shared by tables, not tables.
    let not_tables = ["lib", "subject"];
    let entity_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("entity/src");
    for e in std::fs::read_dir(entity_dir).unwrap() {
        let name = e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if not_tables.contains(&name.as_str()) {
            continue;
        }
        assert!(
            owner_of(&name).is_some() || platform_tables.contains(&name.as_str()),
            "the table {name} belongs to no domain: add it to DOMAINS"
        );
    }
}
