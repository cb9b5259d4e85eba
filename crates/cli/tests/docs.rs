//! The guide cannot rot: every ```console example in README.md and docs/*.md is run and its
//! output compared with the one shown (docs/README.md, "Writing an example").
//!
//! A block is a series of `$ expedite ...` commands (continued on lines starting `> `, or
//! after a trailing `\`), each followed by what it prints: stdout, then stderr. An optional
//! `? CODE` line right after a command gives the exit code it must end with (default 0).
//! Outputs are compared by snapbox: `[..]` stands for any text within a line (write it where
//! a date, a timing or a random figure is printed), a line `...` for any number of lines.
//! Commands run in the repository root. Examples that read a
//! file from the shared folder beside the checkout (`../shared/...`, the SIPRI export that
//! may not be copied) are skipped with a printed reason when it is absent, and fail then
//! under `CI=true`; `EXPEDITE_DOCS_SHARED=/path/to/shared` points them elsewhere.

use std::path::PathBuf;
use std::process::Command;

use snapbox::report::Palette;
use snapbox::{Assert, Redactions};

/// Pages not checked yet because their outputs are still changing in other branches: remove
/// a page from this list to have its examples checked. Every other README.md and
/// docs/*.md page is checked.
const NOT_YET_CHECKED: &[&str] = &[];

fn repository_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// README.md and docs/*.md, as paths relative to the root, in name order.
fn pages() -> Vec<String> {
    let root = repository_root();
    let mut pages = vec!["README.md".to_owned()];
    let mut guide: Vec<String> = std::fs::read_dir(root.join("docs"))
        .expect("docs/ is there")
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("docs/{name}"))
        .collect();
    guide.sort();
    pages.extend(guide);
    pages
}

/// One `$ command` of a page and what it must print.
#[derive(Debug)]
struct Example {
    page: String,
    /// Line of the `$` in the page (1-based).
    line: usize,
    command: String,
    exit_code: i32,
    expected: String,
}

/// The examples of the ```console blocks of a page (blocks marked `console,ignore` or
/// `console ignore` are left out).
fn examples(page: &str, text: &str) -> Vec<Example> {
    let mut examples = Vec::new();
    let mut in_block = false;
    let mut current: Option<Example> = None;
    let mut continued = false;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let trimmed = line.trim_end();
        if !in_block {
            if let Some(info) = trimmed.strip_prefix("```") {
                let mut words = info.split([',', ' ']).filter(|word| !word.is_empty());
                if words.next() == Some("console") && !words.any(|word| word == "ignore") {
                    in_block = true;
                }
            }
            continue;
        }
        if trimmed == "```" {
            examples.extend(current.take());
            in_block = false;
            continue;
        }
        if let Some(example) = current.as_mut() {
            let continuation = if continued {
                Some(trimmed.trim_start())
            } else {
                trimmed.strip_prefix("> ")
            };
            if let Some(rest) = continuation.filter(|_| example.expected.is_empty()) {
                let rest = rest.trim_end_matches('\\');
                example.command.push(' ');
                example.command.push_str(rest.trim());
                continued = trimmed.ends_with('\\');
                continue;
            }
        }
        if let Some(command) = trimmed.strip_prefix("$ ") {
            examples.extend(current.take());
            continued = command.ends_with('\\');
            current = Some(Example {
                page: page.to_owned(),
                line: number,
                command: command.trim_end_matches('\\').trim().to_owned(),
                exit_code: 0,
                expected: String::new(),
            });
            continue;
        }
        let Some(example) = current.as_mut() else {
            panic!("{page}:{number}: a console block must start with `$ expedite ...`");
        };
        continued = false;
        if example.expected.is_empty()
            && let Some(code) = trimmed.strip_prefix("? ")
        {
            example.exit_code = code
                .trim()
                .parse()
                .unwrap_or_else(|_| panic!("{page}:{number}: `? CODE` wants a number"));
            continue;
        }
        example.expected.push_str(line);
        example.expected.push('\n');
    }
    examples
}

/// Splits a command line into words: whitespace separates, single and double quotes group.
fn words(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for character in command.chars() {
        match (quote, character) {
            (Some(open), c) if c == open => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(character);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// Where `../shared/` of an example points: `EXPEDITE_DOCS_SHARED`, else the shared folder
/// beside the checkout.
fn shared_folder() -> PathBuf {
    std::env::var_os("EXPEDITE_DOCS_SHARED")
        .map_or_else(|| repository_root().join("../shared"), PathBuf::from)
}

enum Outcome {
    Passed,
    Skipped(String),
    Failed(String),
}

fn run(example: &Example, assert: &Assert) -> Outcome {
    let mut words = words(&example.command);
    let mut env = Vec::new();
    while let Some((name, value)) = words.first().and_then(|word| word.split_once('=')) {
        if !name.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
            break;
        }
        env.push((name.to_owned(), value.to_owned()));
        words.remove(0);
    }
    if words.first().map(String::as_str) != Some("expedite") {
        return Outcome::Failed(format!(
            "`{}` does not run `expedite`: only expedite examples can be checked",
            example.command
        ));
    }
    let shared = shared_folder();
    let mut arguments = Vec::new();
    for word in &words[1..] {
        match word.strip_prefix("../shared/") {
            Some(rest) => {
                let path = shared.join(rest);
                if !path.exists() {
                    return Outcome::Skipped(format!("{} is not there", path.display()));
                }
                arguments.push(path.into_os_string());
            }
            None => arguments.push(word.into()),
        }
    }
    let output = Command::new(env!("CARGO_BIN_EXE_expedite"))
        .args(&arguments)
        .current_dir(repository_root())
        .env_remove("EXPEDITE_SIPRI")
        .env_remove("COLUMNS")
        .env_remove("NO_COLOR")
        .envs(env)
        .output()
        .expect("the binary runs");
    let mut actual = String::from_utf8_lossy(&output.stdout).into_owned();
    actual.push_str(&String::from_utf8_lossy(&output.stderr));
    let code = output.status.code().unwrap_or(-1);
    if code != example.exit_code {
        return Outcome::Failed(format!(
            "exit code {code}, the page says {}; it printed:\n{actual}",
            example.exit_code
        ));
    }
    match assert.try_eq(
        Some(&"expedite"),
        actual.into(),
        example.expected.clone().into(),
    ) {
        Ok(()) => Outcome::Passed,
        Err(error) => Outcome::Failed(error.to_string()),
    }
}

fn assert() -> Assert {
    // `[..]` and `...` need no set-up; `EXPEDITE_DOCS=overwrite` is not supported (the page
    // is markdown, not a snapshot file), so a changed output is fixed by editing the page.
    Assert::new()
        .redact_with(Redactions::new())
        .palette(Palette::plain())
}

#[test]
fn every_console_example_in_the_readme_and_the_guide_prints_what_it_shows() {
    let assert = assert();
    let in_ci = std::env::var("CI").is_ok_and(|value| value == "true");
    let mut failures = Vec::new();
    let mut checked = 0;
    for page in pages() {
        if NOT_YET_CHECKED.contains(&page.as_str()) {
            eprintln!("not checked yet: {page} (listed in NOT_YET_CHECKED)");
            continue;
        }
        let path = repository_root().join(&page);
        let text = std::fs::read_to_string(&path).expect("the page reads");
        for example in examples(&page, &text) {
            let place = format!("{}:{}: $ {}", example.page, example.line, example.command);
            match run(&example, &assert) {
                Outcome::Passed => checked += 1,
                Outcome::Skipped(reason) if !in_ci => eprintln!("skipped {place}: {reason}"),
                Outcome::Skipped(reason) => failures.push(format!("{place}\nCI=true but {reason}")),
                Outcome::Failed(reason) => failures.push(format!("{place}\n{reason}")),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} example(s) print something else than their page shows:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(checked > 0, "no example was checked");
    eprintln!("{checked} examples checked");
}

#[test]
fn the_example_parser_reads_commands_continuations_and_exit_codes() {
    let page = "text\n```console\n$ expedite nato status \\\n    --year 2024\nline one\n$ expedite nato trend XXX\n? 2\nerror: ...\n```\n```console,ignore\n$ expedite demo\n```\n```sh\n$ expedite man\n```\n```console\n$ expedite sipri leadtimes\n> --file x.csv\n...\n```\n";
    let found = examples("page.md", page);
    let commands: Vec<&str> = found.iter().map(|e| e.command.as_str()).collect();
    assert_eq!(
        commands,
        [
            "expedite nato status --year 2024",
            "expedite nato trend XXX",
            "expedite sipri leadtimes --file x.csv",
        ]
    );
    assert_eq!(found[0].expected, "line one\n");
    assert_eq!(
        (found[1].exit_code, found[1].expected.as_str()),
        (2, "error: ...\n")
    );
    assert_eq!(found[2].line, 17);
    assert_eq!(
        words("COLUMNS=80 expedite rules check --mde-usd '$24M' --x \"a b\""),
        [
            "COLUMNS=80",
            "expedite",
            "rules",
            "check",
            "--mde-usd",
            "$24M",
            "--x",
            "a b"
        ]
    );
}
