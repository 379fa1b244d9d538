//! ZPL II for Zebra-compatible thermal label printers, and sending it to one.
//!
//! Symbols use the printer's own encoders (`^BC`, `^BX` Data Matrix ECC 200) so they print at the head's
//! native resolution. Text that the printer's resident font 0 cannot show (Chinese) is
//! sent as a bitmap (`^GFA`) drawn from the embedded font, unless the site names a CJK
//! font already stored on its printers.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::time::Duration;

use crate::LabelError;
use crate::font::LabelFont;
use crate::layout::{Item, Scene};

/// Port of the raw printing service on network label printers.
pub const RAW_PORT: u16 = 9100;

/// How text reaches the printer. The default sends every line as a bitmap drawn with
/// the embedded font: the label then prints exactly as previewed, Chinese included, on
/// any printer. Printer fonts make smaller jobs but have their own metrics, so the
/// boxed check character may sit differently.
#[derive(Debug, Clone, Default)]
pub struct ZplOptions {
    /// Print ASCII lines with the printer's resident scalable font 0 (`^A0`).
    pub resident_font_for_ascii: bool,
    /// A TrueType font stored on the printer (e.g. `E:SIMSUN.TTF`) for non-ASCII lines.
    pub printer_cjk_font: Option<String>,
}

/// `^FH` makes `_` the hex escape inside `^FD`, so `^` and `~` in data cannot end the
/// field or start a command.
fn field_data(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '_' => out.push_str("_5F"),
            '^' => out.push_str("_5E"),
            '~' => out.push_str("_7E"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

pub fn render_zpl(scene: &Scene, font: &LabelFont, options: &ZplOptions) -> String {
    let dot = scene.dot_mm();
    let d = |mm: f32| (mm / dot).round().max(0.0) as u32;
    let mut z = String::new();
    // Writing to a String cannot fail.
    let _ = write!(
        z,
        "^XA\n^CI28\n^PW{}\n^LL{}\n^LH0,0\n",
        d(scene.width_mm),
        d(scene.height_mm)
    );
    for item in &scene.items {
        match item {
            Item::Fill { x, y, w, h } => {
                let (w, h) = (d(*w).max(1), d(*h).max(1));
                let _ = writeln!(z, "^FO{},{}^GB{w},{h},{}^FS", d(*x), d(*y), w.min(h));
            }
            Item::Frame { x, y, w, h, stroke } => {
                let _ = writeln!(
                    z,
                    "^FO{},{}^GB{},{},{}^FS",
                    d(*x),
                    d(*y),
                    d(*w),
                    d(*h),
                    d(*stroke).max(1)
                );
            }
            Item::Code128 {
                x,
                y,
                module,
                height,
                data,
                ..
            } => {
                let _ = writeln!(
                    z,
                    "^FO{},{}^BY{},3,{}^BCN,{},N,N,N,A^FH^FD{}^FS",
                    d(*x),
                    d(*y),
                    d(*module).max(1),
                    d(*height),
                    d(*height),
                    field_data(data)
                );
            }
            Item::DataMatrix {
                x, y, module, data, ..
            } => {
                // ECC 200 (quality 200), module size in dots, rows and columns chosen by
                // the printer; ^FH so the data goes through the same escaping.
                let _ = writeln!(
                    z,
                    "^FO{},{}^BXN,{},200^FH^FD{}^FS",
                    d(*x),
                    d(*y),
                    d(*module).clamp(1, 20),
                    field_data(data)
                );
            }
            Item::Text {
                x,
                baseline,
                size,
                text,
            } => {
                let h = d(*size).max(10);
                if text.is_ascii() && options.resident_font_for_ascii {
                    let _ = writeln!(
                        z,
                        "^FT{},{}^A0N,{h},{h}^FH^FD{}^FS",
                        d(*x),
                        d(*baseline),
                        field_data(text)
                    );
                } else if let Some(f) = options
                    .printer_cjk_font
                    .as_ref()
                    .filter(|_| !text.is_ascii())
                {
                    let _ = writeln!(
                        z,
                        "^FT{},{}^A@N,{h},{h},{}^FH^FD{}^FS",
                        d(*x),
                        d(*baseline),
                        field_data(f),
                        field_data(text)
                    );
                } else {
                    let top = *baseline - font.ascent_mm(*size);
                    let _ = writeln!(
                        z,
                        "^FO{},{}{}^FS",
                        d(*x),
                        d(top.max(0.0)),
                        text_bitmap(font, text, *size, scene.dpi)
                    );
                }
            }
        }
    }
    z.push_str("^PQ1\n^XZ\n");
    z
}

/// `^GFA` graphic of one line of text, 1 bit per dot, rows padded to whole bytes.
fn text_bitmap(font: &LabelFont, text: &str, size_mm: f32, dpi: u32) -> String {
    let width_mm = font.text_width_mm(text, size_mm) + 0.5;
    let scene = Scene {
        width_mm,
        height_mm: size_mm * 1.1,
        dpi,
        items: vec![Item::Text {
            x: 0.0,
            baseline: font.ascent_mm(size_mm),
            size: size_mm,
            text: text.to_owned(),
        }],
    };
    let img = crate::png::rasterize(&scene, font);
    let row_bytes = img.width().div_ceil(8);
    let mut hex = String::with_capacity((row_bytes * img.height() * 2) as usize);
    for y in 0..img.height() {
        for byte in 0..row_bytes {
            let mut bits = 0u8;
            for bit in 0..8 {
                let x = byte * 8 + bit;
                if x < img.width() && img.get_pixel(x, y).0[0] < 128 {
                    bits |= 0x80 >> bit;
                }
            }
            let _ = write!(hex, "{bits:02X}");
        }
    }
    let total = row_bytes * img.height();
    format!("^GFA,{total},{total},{row_bytes},{hex}")
}

/// Sends ZPL to a network printer's raw port (`host` or `host:port`, port 9100 if
/// omitted).
pub fn send_tcp(target: &str, zpl: &[u8], timeout: Duration) -> Result<(), LabelError> {
    let with_port = if target
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        target.to_owned()
    } else {
        format!("{target}:{RAW_PORT}")
    };
    let err = |source: std::io::Error| LabelError::Printer {
        target: with_port.clone(),
        source,
    };
    let addr = with_port
        .to_socket_addrs()
        .map_err(err)?
        .next()
        .ok_or_else(|| {
            err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no address",
            ))
        })?;
    let mut stream = TcpStream::connect_timeout(&addr, timeout).map_err(err)?;
    stream.set_write_timeout(Some(timeout)).map_err(err)?;
    stream.write_all(zpl).map_err(err)?;
    stream.flush().map_err(err)
}

/// Writes ZPL to a printer's device file (`/dev/usb/lp0`, a serial port, a file).
pub fn send_to_device(path: &Path, zpl: &[u8]) -> Result<(), LabelError> {
    let err = |source| LabelError::Printer {
        target: path.display().to_string(),
        source,
    };
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .map_err(err)?;
    f.write_all(zpl).map_err(err)?;
    f.flush().map_err(err)
}
