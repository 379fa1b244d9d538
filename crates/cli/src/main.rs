//! `lifebridge`: the command-line face of the domain and the device store.
//!
//! Output formats and exit codes here are contracts other tools depend on; see
//! the README's "Command line" section before changing any of them.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use lifebridge_domain::din::{Din, FacilityId};
use lifebridge_domain::eligibility::{self, EligibilityRequest};
use lifebridge_domain::messages::Lang;
use lifebridge_domain::resident_id::ResidentId;
use lifebridge_domain::rules::RuleSet;
use lifebridge_store::export::ExportTable;
use lifebridge_store::{Store, StoreKey};

mod label;
mod prefill;
mod questionnaire;

#[derive(Parser)]
#[command(
    name = "lifebridge",
    version,
    about = "Lifebridge: offline-first mobile blood collection"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// ISBT 128 donation identification numbers.
    #[command(subcommand)]
    Din(DinCommand),
    /// Chinese resident identity card numbers (GB 11643).
    #[command(subcommand)]
    Id(IdCommand),
    /// Decide donor eligibility (GB 18467): one JSON request on stdin, one JSON decision on stdout.
    Eligibility {
        /// Language of each reason's `message`; without it, English when the locale
        /// (LC_ALL, LC_MESSAGES or LANG) is English, zh-CN otherwise.
        #[arg(long, value_enum)]
        lang: Option<LangArg>,
        /// A rules table (JSON) to use instead of the built-in GB 18467-2011 table.
        #[arg(long)]
        rules: Option<PathBuf>,
        /// A questionnaire document (JSON) the request's `questionnaire` answers may
        /// answer, beside the built-in one.
        #[arg(long)]
        questionnaire: Option<PathBuf>,
    },
    /// The donor health questionnaire (献血者健康征询表).
    #[command(subcommand)]
    Questionnaire(questionnaire::QuestionnaireCommand),
    /// The donor-selection rules table.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// The device's encrypted local store.
    #[command(subcommand)]
    Store(StoreCommand),
    /// Donation labels: render one, or pre-print a roll for a DIN range.
    #[command(subcommand)]
    Label(label::LabelCommand),
    /// A donor's pre-fill QR from the station's /prefill page.
    #[command(subcommand)]
    Prefill(prefill::PrefillCommand),
}

#[derive(Subcommand)]
enum DinCommand {
    /// Validate a DIN typed or scanned; prints `DIN CHECK`.
    Check { text: String },
    /// Make a DIN from its parts; prints `DIN CHECK`.
    Make {
        #[arg(long)]
        facility: String,
        #[arg(long)]
        year: u8,
        #[arg(long)]
        sequence: u32,
    },
}

#[derive(Subcommand)]
enum RulesCommand {
    /// The active rules table: every deferral code with period, scope and waivable.
    Show {
        /// Print it as JSON.
        #[arg(long)]
        json: bool,
        /// A rules table (JSON) to show instead of the built-in GB 18467-2011 table.
        #[arg(long)]
        rules: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum IdCommand {
    /// Validate a resident ID; prints its birth date and sex as JSON.
    Check { number: String },
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum LangArg {
    #[value(name = "zh-CN")]
    ZhCn,
    #[value(name = "en")]
    En,
}

#[derive(Args)]
struct StoreArgs {
    /// Path of the store file.
    #[arg(long)]
    store: PathBuf,
    /// Read the store key from this file instead of LIFEBRIDGE_STORE_KEY.
    #[arg(long)]
    key_file: Option<PathBuf>,
}

#[derive(Subcommand)]
enum StoreCommand {
    /// Create a new, empty store.
    Init {
        #[command(flatten)]
        store: StoreArgs,
        /// This device's name as the station will know it (e.g. BUS-07).
        #[arg(long, default_value = "unnamed-device")]
        device_name: String,
    },
    /// Verify integrity, the change log and the audit chain; exits 1 on any fault.
    Check {
        #[command(flatten)]
        store: StoreArgs,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Export records as JSON (all tables) or CSV (one table).
    Export {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long, value_enum, default_value_t = ExportFormat::Json)]
        format: ExportFormat,
        /// With CSV: staff, drives, donors, screenings, deferrals, donations, transport_boxes, box_packings, temperature_readings, manifests or audit.
        #[arg(long)]
        table: Option<String>,
        /// Write here instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Seed a demo drive: N synthetic donors screened and collected, one action at a time.
    Demo {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long, default_value_t = 20)]
        donations: u32,
        /// Only the demo crew accounts, no drive and no donations (a second tablet of a
        /// demo bus, which joins the first tablet's drive through the hub).
        #[arg(long, conflicts_with = "donations")]
        crew_only: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ExportFormat {
    Json,
    Csv,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Din(cmd) => report(din(cmd), 1),
        Command::Id(IdCommand::Check { number }) => report(id_check(&number), 1),
        Command::Eligibility {
            lang,
            rules,
            questionnaire,
        } => report(
            eligibility(lang, rules.as_deref(), questionnaire.as_deref()),
            2,
        ),
        Command::Questionnaire(cmd) => report(questionnaire::run(cmd), 1),
        Command::Label(cmd) => report(label::run(cmd), 1),
        Command::Prefill(cmd) => report(prefill::run(cmd), 1),
        Command::Rules(RulesCommand::Show { json, rules }) => {
            report(rules_show(json, rules.as_deref()), 1)
        }
        Command::Store(cmd) => match store(cmd) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("lifebridge: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}

/// Prints the error's whole chain on stderr and exits with `failure_code`.
fn report(result: Result<()>, failure_code: u8) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lifebridge: {e:#}");
            ExitCode::from(failure_code)
        }
    }
}

fn din(cmd: DinCommand) -> Result<()> {
    let din = match cmd {
        DinCommand::Check { text } => {
            Din::parse(&text).with_context(|| format!("invalid DIN {text:?}"))?
        }
        DinCommand::Make {
            facility,
            year,
            sequence,
        } => {
            let facility: FacilityId = facility
                .parse()
                .with_context(|| format!("invalid facility identification number {facility:?}"))?;
            Din::new(&facility, year, sequence).context("cannot make a DIN from these parts")?
        }
    };
    println!("{} {}", din.as_str(), din.check_char());
    Ok(())
}

fn id_check(number: &str) -> Result<()> {
    let today = chrono::Local::now().date_naive();
    let id = ResidentId::parse(number, today)
        .with_context(|| format!("invalid resident ID {number:?}"))?;
    println!(
        "{}",
        serde_json::json!({
            "birth_date": id.birth_date().to_string(),
            "sex": id.sex().as_str(),
        })
    );
    Ok(())
}

fn load_rules(rules_path: Option<&Path>) -> Result<RuleSet> {
    Ok(match rules_path {
        None => RuleSet::gb18467_2011(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read rules table {}", path.display()))?;
            RuleSet::from_json(&text).with_context(|| format!("rules table {}", path.display()))?
        }
    })
}

fn rules_show(json: bool, rules_path: Option<&Path>) -> Result<()> {
    let summary = load_rules(rules_path)?.summary();
    if json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
        return Ok(());
    }
    println!("{} ({})", summary.version, summary.standard);
    println!(
        "region {}, in force from {}",
        summary.region,
        summary
            .effective_from
            .map_or("(not given)".to_owned(), |d| d.to_string())
    );
    println!("code\tkind\tperiod\tscope\twaivable\tzh");
    for d in &summary.deferrals {
        let scope = match &d.scope {
            lifebridge_domain::rules::DeferralScope::All => "all".to_owned(),
            lifebridge_domain::rules::DeferralScope::Products(p) => {
                p.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(",")
            }
        };
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}",
            d.code,
            d.kind,
            d.period_text,
            scope,
            if d.waivable { "waivable" } else { "hard stop" },
            d.zh
        );
    }
    for w in &summary.waivable_intervals {
        println!(
            "interval {} -> {}: {} (a physician may approve {})",
            w.from_procedure.as_str(),
            w.to_procedure.as_str(),
            w.period.message(),
            w.waivable_to.message()
        );
    }
    Ok(())
}

/// The user's language: `--lang`, else the locale's, zh-CN when neither says English.
pub(crate) fn user_lang(arg: Option<LangArg>) -> Lang {
    match arg {
        Some(LangArg::ZhCn) => Lang::ZhCn,
        Some(LangArg::En) => Lang::En,
        None => ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|v| std::env::var(v).ok())
            .find(|v| !v.is_empty())
            .map_or(Lang::ZhCn, |v| Lang::from_locale(&v)),
    }
}

fn eligibility(
    lang: Option<LangArg>,
    rules_path: Option<&Path>,
    questionnaire_path: Option<&Path>,
) -> Result<()> {
    let rules = load_rules(rules_path)?;
    let given = questionnaire_path
        .map(|p| questionnaire::load(Some(p)))
        .transpose()?;
    let mut known = vec![lifebridge_domain::questionnaire::built_in()];
    known.extend(given.as_ref());
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("cannot read the request from stdin")?;
    let request: EligibilityRequest =
        serde_json::from_str(&input).context("malformed eligibility request")?;
    let decision = eligibility::evaluate_with(&rules, &known, &request)
        .context("malformed eligibility request")?;
    println!("{}", decision.to_contract_json(user_lang(lang)));
    Ok(())
}

fn store_key(args: &StoreArgs) -> Result<StoreKey> {
    let passphrase = match &args.key_file {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read key file {}", path.display()))?
            .trim_end_matches(['\n', '\r'])
            .to_owned(),
        None => std::env::var("LIFEBRIDGE_STORE_KEY")
            .context("no store key: set LIFEBRIDGE_STORE_KEY or pass --key-file")?,
    };
    Ok(StoreKey::new(passphrase)?)
}

fn store(cmd: StoreCommand) -> Result<ExitCode> {
    match cmd {
        StoreCommand::Init { store, device_name } => {
            let key = store_key(&store)?;
            let created = Store::create(&store.store, &key, &device_name)?;
            println!(
                "created store {} for device {}",
                store.store.display(),
                created.device_id()
            );
        }
        StoreCommand::Check { store, json } => {
            let key = store_key(&store)?;
            let opened = Store::open(&store.store, &key)?;
            let report = opened.check()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!("integrity: {}", report.integrity.join("; "));
                println!("foreign keys: {}", fault_list(&report.foreign_key_faults));
                println!(
                    "change log: {} entries, {}",
                    report.change_log_entries,
                    fault_list(&report.change_log_faults)
                );
                println!(
                    "audit chain: {} entries, {}",
                    report.audit_entries,
                    report.audit_fault.as_deref().unwrap_or("verified")
                );
                println!(
                    "audit chain against the station: {}",
                    report
                        .audit_behind_station
                        .as_deref()
                        .unwrap_or("holds the head the station acknowledged")
                );
                println!(
                    "rows match change log: {}",
                    fault_list(&report.rows_out_of_step)
                );
            }
            if !report.is_ok() {
                eprintln!("lifebridge: the store has faults (see above)");
                return Ok(ExitCode::FAILURE);
            }
        }
        StoreCommand::Export {
            store,
            format,
            table,
            out,
        } => {
            let key = store_key(&store)?;
            let opened = Store::open(&store.store, &key)?;
            let mut sink: Box<dyn Write> = match &out {
                Some(path) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(path)
                        .with_context(|| format!("cannot create {}", path.display()))?,
                )),
                None => Box::new(std::io::stdout().lock()),
            };
            match format {
                ExportFormat::Json => {
                    if table.is_some() {
                        bail!("--table goes with --format csv; JSON export holds every table");
                    }
                    opened.export_json(&mut sink)?;
                }
                ExportFormat::Csv => {
                    let Some(table) = table else {
                        bail!(
                            "--format csv needs --table (staff, drives, donors, screenings, deferrals, donations, transport_boxes, box_packings, temperature_readings, manifests or audit)"
                        );
                    };
                    opened.export_csv(ExportTable::parse(&table)?, &mut sink)?;
                }
            }
            sink.flush().context("cannot write the export")?;
        }
        StoreCommand::Demo {
            store,
            donations,
            crew_only,
        } => {
            let key = store_key(&store)?;
            let mut opened = Store::open_or_create(&store.store, &key, "DEMO-BUS")?;
            if crew_only {
                lifebridge_store::demo::seed_crew(&mut opened)?;
                return Ok(ExitCode::SUCCESS);
            }
            let stdout = std::io::stdout();
            lifebridge_store::demo::seed(&mut opened, donations, |id| {
                // Print and flush per commit: a reader may kill us at any moment and must
                // see exactly the ids whose transactions committed.
                let mut out = stdout.lock();
                writeln!(out, "{id}").and_then(|()| out.flush())
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn fault_list(faults: &[String]) -> String {
    if faults.is_empty() {
        "ok".to_owned()
    } else {
        faults.join("; ")
    }
}
