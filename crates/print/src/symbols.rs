//! The modules of the symbols: a label's Code 128 (linear) and Data Matrix (ECC 200,
//! the 2-D symbol ICCBBA ST-001 section 6.2.1 requires on container labels), and the QR
//! codes of things that are not ISBT 128 labels (the transport manifest).

use barcoders::sym::code128::Code128;
use qrcode::{Color, EcLevel, QrCode};

use crate::LabelError;

/// Code 128 bars and spaces, one `true` per dark module, quiet zones excluded.
///
/// Runs of four or more digits go in code set C (two digits per symbol character), the
/// rest in code set B: an ISBT 128 DIN then fits in 145 modules instead of 222, which
/// keeps the bars at the 0.25 mm the standard recommends on a 50 mm tube label.
pub fn code128_modules(data: &str) -> Result<Vec<bool>, LabelError> {
    let err = |reason: String| LabelError::Symbol {
        symbol: "Code 128",
        data: data.to_owned(),
        reason,
    };
    if data.is_empty() || !data.chars().all(|c| (' '..='~').contains(&c)) {
        return Err(err(
            "only printable ASCII (space to ~) can be encoded, and at least one character".into(),
        ));
    }
    let encoded = Code128::new(code_sets(data)).map_err(|e| err(e.to_string()))?;
    Ok(encoded.encode().into_iter().map(|m| m == 1).collect())
}

/// Inserts barcoders' code-set switches (Ɓ = set B, Ć = set C) into `data`.
fn code_sets(data: &str) -> String {
    let chars: Vec<char> = data.chars().collect();
    let mut out = String::new();
    let mut in_c = None::<bool>;
    let mut i = 0;
    while i < chars.len() {
        let run = chars[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if run >= 4 {
            // An odd run leaves its first digit in set B so set C gets pairs.
            if run % 2 == 1 {
                if in_c != Some(false) {
                    out.push('Ɓ');
                    in_c = Some(false);
                }
                out.push(chars[i]);
                i += 1;
            }
            if in_c != Some(true) {
                out.push('Ć');
                in_c = Some(true);
            }
            let even = run - run % 2;
            out.extend(&chars[i..i + even]);
            i += even;
        } else {
            if in_c != Some(false) {
                out.push('Ɓ');
                in_c = Some(false);
            }
            let take = run.max(1);
            out.extend(&chars[i..i + take]);
            i += take;
        }
    }
    out
}

/// A QR symbol: `width` x `width` modules, row-major, `true` dark; quiet zone excluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrMatrix {
    pub width: usize,
    pub modules: Vec<bool>,
}

/// QR at error-correction level M (15 %): labels get scratched and wet; H would make
/// the symbol too large for a tube.
pub fn qr_matrix(data: &str) -> Result<QrMatrix, LabelError> {
    let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M).map_err(|e| {
        LabelError::Symbol {
            symbol: "QR",
            data: data.to_owned(),
            reason: e.to_string(),
        }
    })?;
    Ok(QrMatrix {
        width: code.width(),
        modules: code
            .to_colors()
            .into_iter()
            .map(|c| c == Color::Dark)
            .collect(),
    })
}

/// A Data Matrix symbol: `width` x `height` modules, row-major, `true` dark; quiet
/// zone excluded (the finder pattern is part of the symbol).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataMatrix {
    pub width: usize,
    pub height: usize,
    pub modules: Vec<bool>,
}

/// Data Matrix ECC 200, square, encoded by rxing: ASCII data content, so the digits of
/// a DIN pack two to a codeword.
pub fn datamatrix(data: &str) -> Result<DataMatrix, LabelError> {
    use rxing::Writer as _;
    let err = |reason: String| LabelError::Symbol {
        symbol: "Data Matrix",
        data: data.to_owned(),
        reason,
    };
    if data.is_empty() || !data.is_ascii() {
        return Err(err(
            "only ASCII data content can be encoded, and at least one character".into(),
        ));
    }
    let hints = rxing::EncodeHints {
        DataMatrixShape: Some(rxing::datamatrix::encoder::SymbolShapeHint::FORCE_SQUARE),
        ..Default::default()
    };
    let bits = rxing::datamatrix::DataMatrixWriter
        .encode_with_hints(data, &rxing::BarcodeFormat::DATA_MATRIX, 0, 0, &hints)
        .map_err(|e| err(e.to_string()))?;
    let (w, h) = (bits.getWidth(), bits.getHeight());
    let mut modules = Vec::with_capacity((w * h) as usize);
    for y in 0..h {
        for x in 0..w {
            modules.push(bits.get(x, y));
        }
    }
    Ok(DataMatrix {
        width: w as usize,
        height: h as usize,
        modules,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn din_data_uses_code_set_c_for_digit_runs() {
        assert_eq!(code_sets("=G123426012345A1"), "Ɓ=GĆ123426012345ƁA1");
        assert_eq!(code_sets("A12345"), "ƁA1Ć2345");
        assert_eq!(code_sets("=G12342601234501"), "Ɓ=GĆ12342601234501");
        assert_eq!(code_sets("=G123"), "Ɓ=G123");
        let modules = code128_modules("=G12342601234501").unwrap();
        // start + 2 (B) + switch + 7 pairs + check = 12 characters of 11 modules, stop 13.
        assert_eq!(modules.len(), 12 * 11 + 13);
        assert!(code128_modules("").is_err());
        assert!(code128_modules("中").is_err());
    }

    #[test]
    fn datamatrix_is_square_with_its_finder_pattern() {
        let m = datamatrix("=+02000=G12342601234501&*0260320930").unwrap();
        assert_eq!(m.width, m.height);
        assert_eq!(m.modules.len(), m.width * m.height);
        // Solid L on the left column and bottom row, alternating top row.
        assert!((0..m.height).all(|y| m.modules[y * m.width]));
        assert!((0..m.width).all(|x| m.modules[(m.height - 1) * m.width + x]));
        assert!(m.modules[0] && !m.modules[1]);
        assert!(datamatrix("").is_err());
        assert!(datamatrix("中").is_err());
    }

    #[test]
    fn qr_is_square() {
        let m = qr_matrix("=G12342601234501").unwrap();
        assert_eq!(m.modules.len(), m.width * m.width);
    }
}
