//! `lifebridge-station`: the station server and its administration commands.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::Utc;
use clap::{Parser, Subcommand};
use lifebridge_domain::messages::{Lang, Message};
use lifebridge_station::config::{Config, DinConfig, TlsConfig};
use lifebridge_station::devices::DeviceKind;
use lifebridge_station::{auth, open_storage, rolls, server};

#[derive(Parser)]
#[command(
    name = "lifebridge-station",
    version,
    about = "Lifebridge station: receives vehicles' records, sends them what they need offline"
)]
struct Cli {
    /// TOML configuration file (flags override it).
    #[arg(long, global = true, env = "LIFEBRIDGE_STATION_CONFIG")]
    config: Option<PathBuf>,
    /// Folder for the embedded SQLite database.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// PostgreSQL connection URL, instead of the embedded SQLite database.
    #[arg(long, global = true, env = "LIFEBRIDGE_STATION_DATABASE_URL")]
    database_url: Option<String>,
    /// Language of refusals (zh-CN or en); without it, English when the locale
    /// (LC_ALL, LC_MESSAGES or LANG) is English, zh-CN otherwise.
    #[arg(long, global = true)]
    lang: Option<Lang>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve {
        #[command(flatten)]
        serve: ServeArgs,
    },
    /// Run on a bus as its hub: the bus's tablets enroll with it (`device enroll` on the
    /// hub's data folder) and see each other's records with no internet; it relays them to
    /// the city station and brings back what they need whenever the station is reachable.
    /// The first start enrolls the hub with the station (--upstream, --code); later starts
    /// need neither.
    Hub {
        /// The city station's address, e.g. https://station.example:8707.
        #[arg(long, requires = "code")]
        upstream: Option<String>,
        /// The one-time code the station printed for this hub (`device enroll --hub`).
        #[arg(long, requires = "upstream")]
        code: Option<String>,
        /// The name the hub enrolls as at the station (e.g. BUS-07-HUB).
        #[arg(long, default_value = "hub")]
        name: String,
        /// The station's certificate (PEM) to pin; without it only plain HTTP to a
        /// loopback address is allowed.
        #[arg(long)]
        upstream_cert: Option<PathBuf>,
        /// How the hub serves its tablets (as a station serves devices; --din-facility
        /// names the facility whose DINs it asks the station for and sub-leases).
        #[command(flatten)]
        serve: ServeArgs,
        /// Start with the link to the station on or off (a bus with no internet, or to
        /// watch records cross the bus before they reach the station).
        #[arg(long, value_enum, default_value = "on")]
        link: Link,
    },
    /// Enroll, list and revoke devices.
    Device {
        #[command(subcommand)]
        command: DeviceCommand,
    },
    /// Send booked donors to the vehicles, or list a day's bookings.
    Appointment {
        #[command(subcommand)]
        command: AppointmentCommand,
    },
    /// Station staff who sign hand-offs at the receiving desk (page /desk).
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// Register, list and hand out rolls of pre-printed DIN labels: a donation numbered
    /// from a registered roll is accepted like one from a leased range.
    #[command(name = "rolls", alias = "roll")]
    Rolls {
        #[command(subcommand)]
        command: RollCommand,
    },
    /// Publish a rules table or questionnaire to every device.
    Publish {
        /// `rules` or `questionnaire`.
        #[arg(long)]
        kind: String,
        #[arg(long)]
        version: String,
        /// JSON file with the document.
        file: PathBuf,
    },
}

/// How a station (or a hub) serves its devices.
#[derive(clap::Args, Default)]
struct ServeArgs {
    /// Address to listen on, e.g. 127.0.0.1:8707 (plain HTTP only on loopback).
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
    /// PEM certificate chain: serve HTTPS.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// ISBT 128 facility identification number to lease DIN ranges for.
    #[arg(long)]
    din_facility: Option<String>,
    /// A station for demos and training: also accept donations numbered from the
    /// training facility (never for real donors).
    #[arg(long)]
    training: bool,
}

impl ServeArgs {
    /// The flags over the configuration file's values, checked.
    fn apply(self, config: &mut Config) -> Result<(), lifebridge_station::config::ConfigError> {
        config.training |= self.training;
        if let Some(addr) = self.listen {
            config.listen = addr;
        }
        if let (Some(cert), Some(key)) = (self.tls_cert, self.tls_key) {
            config.tls = Some(TlsConfig { cert, key });
        }
        if let Some(facility) = self.din_facility {
            config.din.get_or_insert_with(DinConfig::default).facility = facility;
        }
        config.validate()
    }
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Link {
    On,
    Off,
}

#[derive(Subcommand)]
enum AppointmentCommand {
    /// Import a booking list (CSV with a header: date, time, site, name, document, phone,
    /// procedure, note, cancelled — or 日期, 时间, 地点, 姓名, 证件号码, 电话, 献血类型, 备注, 取消).
    /// All rows are checked first; one bad row publishes nothing.
    Import { file: PathBuf },
    /// List the appointments on a date (YYYY-MM-DD; default today in China Standard Time).
    List {
        #[arg(long)]
        date: Option<chrono::NaiveDate>,
    },
}

#[derive(Subcommand)]
enum StaffCommand {
    /// Add a staff member; the PIN (4 to 8 digits) is read from standard input.
    Add {
        #[arg(long)]
        name: String,
        /// `receiving` (signs in at the desk, signs as receiver), or device roles, several
        /// separated by commas: `driver`, `registration`, `physician`, `phlebotomist`,
        /// `supervisor`. An account with a device role is sent to every tablet on its next
        /// sync, so its holder signs in there with the same PIN.
        #[arg(long)]
        role: String,
    },
    /// Give a staff member a new PIN, read from standard input (a forgotten PIN, or a
    /// lock-out on a tablet); devices take it on their next sync.
    SetPin {
        #[arg(long)]
        name: String,
    },
    /// Change a staff member's roles (same form as `add --role`); devices take them on
    /// their next sync.
    SetRoles {
        #[arg(long)]
        name: String,
        #[arg(long)]
        role: String,
    },
    /// List every account: name, roles, open or closed, and whether tablets receive it.
    List,
    /// Close a staff member's account: it signs nothing at the desk, and every device
    /// stops letting it sign in on its next sync. Hand-offs it signed keep its name.
    Deactivate {
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand)]
enum RollCommand {
    /// Register a roll of labels printed ahead of time. Refused when any of its numbers
    /// was leased to a device or lies in another roll; DIN leases skip it from now on.
    Register {
        /// ISBT 128 facility identification number printed on the labels (e.g. A9999).
        #[arg(long)]
        facility: String,
        /// Nominal year on the labels: 26 or 2026 (the label prints two digits).
        #[arg(long)]
        year: u16,
        /// First sequence number of the roll (0 to 999999).
        #[arg(long)]
        first: u32,
        /// Last sequence number of the roll (0 to 999999, not below --first).
        #[arg(long)]
        last: u32,
        /// The device (id or name) the roll was handed to: only it may number donations
        /// from the roll. Without it, any enrolled device may.
        #[arg(long)]
        device: Option<String>,
    },
    /// List every registered roll and whom it was handed to.
    List,
    /// Hand a registered roll to a device (id or name), or with --any to every device.
    Assign {
        /// The roll's id (see `rolls list`).
        roll: uuid::Uuid,
        #[arg(long, conflicts_with = "any", required_unless_present = "any")]
        device: Option<String>,
        #[arg(long)]
        any: bool,
    },
}

#[derive(Subcommand)]
enum DeviceCommand {
    /// Print a one-time enrollment code for a new device.
    Enroll {
        #[arg(long)]
        name: String,
        /// The code enrolls a bus hub: it relays its tablets' records under their own
        /// ids (docs/security.md "Bus hubs").
        #[arg(long)]
        hub: bool,
    },
    List,
    /// Revoke a device by id or name: its requests get 401 from now on (a hub's relays
    /// and tablet registrations 403; its tablets' data stays theirs).
    Revoke {
        device: String,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let mut config = match &cli.config {
        Some(path) => Config::from_file(path)?,
        None => Config::default(),
    };
    if let Some(dir) = cli.data_dir {
        config.data_dir = dir;
    }
    if let Some(url) = cli.database_url {
        config.database_url = Some(url);
    }
    let lang = cli.lang.unwrap_or_else(locale_lang);
    // A refusal from the catalogue, in the operator's language.
    let say = |m: Message| m.render(lang);
    let command = cli.command.unwrap_or(Command::Serve {
        serve: ServeArgs::default(),
    });
    match command {
        Command::Serve { serve } => {
            serve.apply(&mut config)?;
            let storage = open_storage(&config).await?;
            let station = server::start(config, storage).await?;
            // Tests and scripts read this line to find the port.
            println!("listening on {}", station.base_url());
            station
                .serve_until(async {
                    let _ = tokio::signal::ctrl_c().await;
                    tracing::info!("stopping");
                })
                .await?;
            Ok(())
        }
        Command::Hub {
            upstream,
            code,
            name,
            upstream_cert,
            serve,
            link,
        } => {
            serve.apply(&mut config)?;
            let storage = open_storage(&config).await?;
            let enroll = match (upstream, code) {
                (Some(url), Some(code)) => {
                    let cert_pem = upstream_cert
                        .map(|p| {
                            std::fs::read_to_string(&p).map_err(|e| {
                                format!("--upstream-cert {}: cannot read it: {e}", p.display())
                            })
                        })
                        .transpose()?;
                    Some(lifebridge_station::hub::Enrollment {
                        url,
                        code,
                        name,
                        cert_pem,
                    })
                }
                _ => None,
            };
            let relay = lifebridge_station::hub::connect(storage.clone(), enroll, &config).await?;
            storage.hub_set_paused(link == Link::Off).await?;
            let page = lifebridge_station::hub::page::HubPage {
                storage: storage.clone(),
                status: relay.status(),
                wake: relay.waker(),
            };
            let extra = lifebridge_station::hub::page::router(page);
            let station = server::start_with(config, storage, extra).await?;
            println!("listening on {}", station.base_url());
            eprintln!("hub page: {}/hub", station.base_url());
            let (stop, stopped) = tokio::sync::watch::channel(false);
            let relay = tokio::spawn(relay.run(stopped));
            station
                .serve_until(async {
                    let _ = tokio::signal::ctrl_c().await;
                    tracing::info!("stopping");
                })
                .await?;
            let _ = stop.send(true);
            let _ = relay.await;
            Ok(())
        }
        Command::Device { command } => {
            let storage = open_storage(&config).await?;
            match command {
                DeviceCommand::Enroll { name, hub } => {
                    let name = name.trim();
                    if name.is_empty() || name.chars().count() > 64 {
                        return Err("--name must be 1 to 64 characters".into());
                    }
                    let code = auth::new_enrollment_code();
                    let now = Utc::now();
                    let expires =
                        now + chrono::Duration::hours(i64::from(config.enrollment_valid_hours));
                    let kind = if hub {
                        DeviceKind::Hub
                    } else {
                        DeviceKind::Tablet
                    };
                    storage
                        .create_enrollment_as(
                            kind,
                            name,
                            &auth::enrollment_code_hash(&code),
                            now,
                            expires,
                        )
                        .await?;
                    println!("{code}");
                    eprintln!(
                        "one-time enrollment code for {name} ({}), valid until {} UTC; {}",
                        kind.as_str(),
                        expires.format("%Y-%m-%d %H:%M"),
                        if hub {
                            "give it to the hub (lifebridge-station hub)"
                        } else {
                            "enter it in the app's sync settings"
                        }
                    );
                }
                DeviceCommand::List => {
                    println!(
                        "{:<38} {:<16} {:<6} {:>10}  {:<27} {:<27} via hub",
                        "device_id", "name", "kind", "held_seq", "enrolled", "revoked"
                    );
                    let devices = storage.devices().await?;
                    for d in &devices {
                        // The hub by name (the id when no such device: never expected).
                        let hub = d.via_hub.map(|h| {
                            devices
                                .iter()
                                .find(|x| x.device_id == h)
                                .map_or_else(|| h.to_string(), |x| x.name.clone())
                        });
                        println!(
                            "{:<38} {:<16} {:<6} {:>10}  {:<27} {:<27} {}",
                            d.device_id.to_string(),
                            d.name,
                            d.kind.as_str(),
                            d.held_seq,
                            d.enrolled_at,
                            d.revoked_at.as_deref().unwrap_or("-"),
                            hub.as_deref().unwrap_or("-")
                        );
                    }
                }
                DeviceCommand::Revoke { device } => match storage
                    .revoke_device(&device, Utc::now())
                    .await?
                {
                    Some(d) => println!("revoked {} ({})", d.name, d.device_id),
                    None => {
                        return Err(format!("no active device with id or name {device:?}").into());
                    }
                },
            }
            Ok(())
        }
        Command::Appointment { command } => {
            let today = lifebridge_domain::china_date(Utc::now());
            let storage = open_storage(&config).await?;
            match command {
                AppointmentCommand::Import { file } => {
                    let text = std::fs::read_to_string(&file)
                        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
                    let appointments = lifebridge_station::appointments::parse_csv(&text, today)
                        .map_err(|e| {
                            format!(
                                "{}: {}; nothing was published",
                                file.display(),
                                say(e.message())
                            )
                        })?;
                    let published = storage
                        .publish_appointments(&appointments, Utc::now())
                        .await?;
                    println!(
                        "{} appointments read, {published} new or changed sent to the vehicles",
                        appointments.len()
                    );
                }
                AppointmentCommand::List { date } => {
                    for a in storage.appointments_on(date.unwrap_or(today)).await? {
                        println!(
                            "{}  {:<5}  {:<12}  {:<8}  {}{}",
                            a.date,
                            a.time
                                .map(|t| t.format("%H:%M").to_string())
                                .unwrap_or_default(),
                            a.site_name,
                            a.name,
                            a.document.number(),
                            if a.cancelled { "  (cancelled)" } else { "" }
                        );
                    }
                }
            }
            Ok(())
        }
        Command::Staff {
            command: StaffCommand::Add { name, role },
        } => {
            let mut pin = String::new();
            std::io::stdin()
                .read_line(&mut pin)
                .map_err(|e| format!("cannot read the PIN from standard input: {e}"))?;
            let staff = lifebridge_station::staff::new_staff(&name, &role, &pin, Utc::now())
                .map_err(say)?;
            let storage = open_storage(&config).await?;
            if !storage.add_staff(&staff).await? {
                return Err(format!(
                    "a staff member named {} exists already; names sign hand-offs, so they must be unique",
                    staff.name
                )
                .into());
            }
            println!("added {} ({}){}", staff.name, staff.role, sent_note(&staff));
            Ok(())
        }
        Command::Staff {
            command: StaffCommand::SetPin { name },
        } => {
            let mut pin = String::new();
            std::io::stdin()
                .read_line(&mut pin)
                .map_err(|e| format!("cannot read the PIN from standard input: {e}"))?;
            let storage = open_storage(&config).await?;
            let staff = known_staff(storage.as_ref(), &name).await?;
            let changed = lifebridge_station::staff::with_new_pin(&staff, &pin).map_err(say)?;
            storage.update_staff(&changed, Utc::now()).await?;
            println!("new PIN for {}{}", staff.name, sent_note(&changed));
            Ok(())
        }
        Command::Staff {
            command: StaffCommand::SetRoles { name, role },
        } => {
            let storage = open_storage(&config).await?;
            let staff = known_staff(storage.as_ref(), &name).await?;
            let changed = lifebridge_station::staff::with_roles(&staff, &role).map_err(say)?;
            storage.update_staff(&changed, Utc::now()).await?;
            println!(
                "{} now has roles {}{}",
                changed.name,
                changed.role,
                sent_note(&changed)
            );
            Ok(())
        }
        Command::Staff {
            command: StaffCommand::List,
        } => {
            let storage = open_storage(&config).await?;
            for staff in storage.staff_list().await? {
                println!(
                    "{:<16}  {:<32}  {:<6}  {}",
                    staff.name,
                    staff.role,
                    if staff.active { "open" } else { "closed" },
                    if staff.device_account().is_some() {
                        "tablets"
                    } else {
                        "desk only"
                    }
                );
            }
            Ok(())
        }
        Command::Staff {
            command: StaffCommand::Deactivate { name },
        } => {
            let storage = open_storage(&config).await?;
            let staff = known_staff(storage.as_ref(), &name).await?;
            if !staff.active {
                println!("{} was closed already", staff.name);
                return Ok(());
            }
            let closed = lifebridge_station::staff::StaffRow {
                active: false,
                ..staff
            };
            storage.update_staff(&closed, Utc::now()).await?;
            println!("closed {}{}", closed.name, sent_note(&closed));
            Ok(())
        }
        Command::Rolls { command } => {
            let storage = open_storage(&config).await?;
            match command {
                RollCommand::Register {
                    facility,
                    year,
                    first,
                    last,
                    device,
                } => {
                    let range = rolls::parse_range(&facility, year, first, last).map_err(say)?;
                    let roll = storage
                        .register_roll(&range, device.as_deref(), Utc::now())
                        .await?
                        .map_err(say)?;
                    println!(
                        "registered roll {} ({} numbers), id {}{}",
                        rolls::range_text(&roll.range),
                        roll.range.len(),
                        roll.roll_id,
                        holder(&roll)
                    );
                }
                RollCommand::List => {
                    println!(
                        "{:<38} {:<24} {:>7}  {:<19} device",
                        "roll_id", "range", "numbers", "registered (UTC+8)"
                    );
                    for roll in storage.rolls().await? {
                        println!(
                            "{:<38} {:<24} {:>7}  {:<19} {}",
                            roll.roll_id.to_string(),
                            rolls::range_text(&roll.range),
                            roll.range.len(),
                            // Station staff read China time to the minute.
                            lifebridge_domain::china_local(roll.registered_at)
                                .format("%Y-%m-%d %H:%M")
                                .to_string(),
                            roll.device_name.as_deref().unwrap_or("any")
                        );
                    }
                }
                RollCommand::Assign { roll, device, any } => {
                    let device = if any { None } else { device };
                    let roll = storage
                        .assign_roll(roll, device.as_deref())
                        .await?
                        .map_err(say)?;
                    println!("roll {}{}", rolls::range_text(&roll.range), holder(&roll));
                }
            }
            Ok(())
        }
        Command::Publish {
            kind,
            version,
            file,
        } => {
            if !matches!(kind.as_str(), "rules" | "questionnaire") {
                return Err("--kind must be rules or questionnaire".into());
            }
            let text = std::fs::read_to_string(&file)
                .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            if kind == "rules" {
                lifebridge_domain::rules::RuleSet::from_json(&text)
                    .map_err(|e| format!("{} is not a valid rules table: {e}", file.display()))?;
            }
            let document: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| format!("{} is not JSON: {e}", file.display()))?;
            let storage = open_storage(&config).await?;
            if kind == "questionnaire" {
                check_questionnaire(&text, &version, &file, storage.as_ref()).await?;
            }
            if storage
                .publish_reference(&kind, &version, &document, Utc::now())
                .await?
            {
                println!("published {kind} {version}");
            } else {
                println!("{kind} {version} was already published; nothing changed");
            }
            Ok(())
        }
    }
}

/// A questionnaire is published only if every tablet can use it: a valid document of
/// the version given, whose deferral codes the station's rules table has.
async fn check_questionnaire(
    text: &str,
    version: &str,
    file: &std::path::Path,
    storage: &dyn lifebridge_station::db::Storage,
) -> Result<(), Box<dyn std::error::Error>> {
    let doc = lifebridge_domain::questionnaire::Questionnaire::from_json(text)
        .map_err(|e| format!("{} is not a valid questionnaire: {e}", file.display()))?;
    if doc.version != version {
        return Err(format!(
            "--version {version} does not match the document's version {}",
            doc.version
        )
        .into());
    }
    let rules = match storage.latest_reference("rules").await? {
        Some(body) => lifebridge_domain::rules::RuleSet::from_json(&body)
            .map_err(|e| format!("the station's published rules table is unreadable: {e}"))?,
        None => lifebridge_domain::rules::RuleSet::gb18467_2011(),
    };
    let problems: Vec<String> = doc
        .check_against(&rules)
        .iter()
        .map(ToString::to_string)
        .collect();
    if !problems.is_empty() {
        return Err(format!(
            "{} does not fit rules table {}: {}",
            file.display(),
            rules.version,
            problems.join("; ")
        )
        .into());
    }
    Ok(())
}

/// The locale's language: English when it says English, zh-CN otherwise.
fn locale_lang() -> Lang {
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|v| !v.is_empty())
        .map_or(Lang::ZhCn, |v| Lang::from_locale(&v))
}

async fn known_staff(
    storage: &dyn lifebridge_station::db::Storage,
    name: &str,
) -> Result<lifebridge_station::staff::StaffRow, Box<dyn std::error::Error>> {
    storage
        .staff_by_name(name.trim())
        .await?
        .ok_or_else(|| format!("no staff member is named {}", name.trim()).into())
}

/// Whom a roll was handed to, for the operator.
fn holder(roll: &rolls::RollRow) -> String {
    match &roll.device_name {
        Some(name) => format!("; handed to {name}: only it may number donations from it"),
        None => "; any enrolled device may number donations from it".to_owned(),
    }
}

/// What the operator is told about the devices after an account change.
fn sent_note(staff: &lifebridge_station::staff::StaffRow) -> &'static str {
    if staff.device_account().is_some() {
        "; sent to every device on its next sync"
    } else {
        ""
    }
}
