//! Swedish personal identity numbers (personnummer) and coordination numbers
//! (samordningsnummer), parsed once at the boundary: a [`Personnummer`] is always valid and
//! normalised to 12 digits. It has no `Display` and its `Debug` is redacted, and errors never
//! echo the input, so the number cannot reach a log line, an error message or DynamoDB.
use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Personnummer {
    /// `YYYYMMDDNNNC`, ASCII digits.
    digits: [u8; 12],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PersonnummerError {
    #[error("the personnummer is empty")]
    Empty,
    #[error("the personnummer may only contain digits and one '-' or '+' before the last four digits")]
    Characters,
    #[error("the personnummer must have 10 digits (YYMMDD-NNNN) or 12 digits (YYYYMMDDNNNN)")]
    Length,
    #[error("the personnummer's date of birth is not a real date")]
    Date,
    #[error("the personnummer's last digit (the check digit) does not match; it has a typo")]
    CheckDigit,
}

/// A calendar date, for the century of 10-digit numbers and for "not in the future".
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    /// The UTC date of a Unix timestamp.
    pub fn from_unix(secs: i64) -> Date {
        // Howard Hinnant's days-to-civil algorithm.
        let z = secs.div_euclid(86_400) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// The Luhn check digit over nine digits (`YYMMDDNNN`).
fn check_digit(nine: &[u8]) -> u8 {
    let sum: u32 = nine
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let p = u32::from(d - b'0') * if i % 2 == 0 { 2 } else { 1 };
            p / 10 + p % 10
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

impl Personnummer {
    /// Parses `YYMMDD-NNNC`, `YYMMDD+NNNC` (100 or older), `YYMMDDNNNC`, `YYYYMMDDNNNC` or
    /// `YYYYMMDD-NNNC`; coordination numbers have the day plus 60. `today` decides the century of
    /// 10-digit numbers, and no date of birth may lie after it.
    pub fn parse(input: &str, today: Date) -> Result<Self, PersonnummerError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(PersonnummerError::Empty);
        }
        let mut separator = None;
        let mut digits = Vec::with_capacity(12);
        for (i, c) in s.char_indices() {
            match c {
                '0'..='9' => digits.push(c as u8),
                '-' | '+' if separator.is_none() && s.len() - i == 5 => separator = Some(c),
                _ => return Err(PersonnummerError::Characters),
            }
        }
        let (year, rest) = match digits.len() {
            12 => {
                let year = digits[..4].iter().fold(0i32, |a, d| a * 10 + i32::from(d - b'0'));
                (year, &digits[2..])
            }
            10 => {
                let yy = i32::from(digits[0] - b'0') * 10 + i32::from(digits[1] - b'0');
                let mut year = today.year - (today.year - yy).rem_euclid(100);
                if separator == Some('+') {
                    year -= 100;
                }
                (year, &digits[..])
            }
            _ => return Err(PersonnummerError::Length),
        };
        let month = u32::from(rest[2] - b'0') * 10 + u32::from(rest[3] - b'0');
        let mut day = u32::from(rest[4] - b'0') * 10 + u32::from(rest[5] - b'0');
        if day > 60 {
            day -= 60; // samordningsnummer
        }
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return Err(PersonnummerError::Date);
        }
        let birth = Date { year, month, day };
        // A 10-digit number with '-' whose date is later this century year is from the last one.
        let birth = if digits.len() == 10 && birth > today && separator != Some('+') {
            Date { year: year - 100, ..birth }
        } else {
            birth
        };
        if birth > today || birth.year < 1800 {
            return Err(PersonnummerError::Date);
        }
        if check_digit(&rest[..9]) != rest[9] - b'0' {
            return Err(PersonnummerError::CheckDigit);
        }
        let mut out = [0u8; 12];
        let century = birth.year / 100;
        out[0] = b'0' + (century / 10) as u8;
        out[1] = b'0' + (century % 10) as u8;
        out[2..].copy_from_slice(rest);
        Ok(Personnummer { digits: out })
    }

    /// The 12-digit form `YYYYMMDDNNNC`, for sending to the party that needs it.
    pub fn twelve_digits(&self) -> String {
        String::from_utf8_lossy(&self.digits).into_owned()
    }

    pub fn is_coordination_number(&self) -> bool {
        self.digits[6] >= b'6'
    }
}

impl fmt::Debug for Personnummer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Personnummer([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: Date = Date { year: 2026, month: 11, day: 25 };

    fn parse(s: &str) -> Result<String, PersonnummerError> {
        Personnummer::parse(s, TODAY).map(|p| p.twelve_digits())
    }

    #[test]
    fn valid_forms_normalise_to_twelve_digits() {
        assert_eq!(parse("811218-9876").unwrap(), "198112189876");
        assert_eq!(parse("8112189876").unwrap(), "198112189876");
        assert_eq!(parse("640823-3234").unwrap(), "196408233234");
        assert_eq!(parse("19121212-1212").unwrap(), "191212121212");
        assert_eq!(parse("191212121212").unwrap(), "191212121212");
        assert_eq!(parse(" 850709-9805 ").unwrap(), "198507099805");
        // A centenarian: '+' moves the century back.
        assert_eq!(parse("121212+1212").unwrap(), "191212121212");
        // Samordningsnummer: day 83 is the 23rd.
        let c = Personnummer::parse("640883-3231", TODAY).unwrap();
        assert!(c.is_coordination_number());
        assert_eq!(c.twelve_digits(), "196408833231");
    }

    #[test]
    fn invalid_numbers_say_what_is_wrong() {
        assert_eq!(parse("640823-3235"), Err(PersonnummerError::CheckDigit));
        assert_eq!(parse("640230-3238"), Err(PersonnummerError::Date), "30 February");
        assert_eq!(parse("641323-3234"), Err(PersonnummerError::Date), "month 13");
        assert_eq!(parse("6408A3-3234"), Err(PersonnummerError::Characters));
        assert_eq!(parse("640823 3234"), Err(PersonnummerError::Characters));
        assert_eq!(parse("64082-33234"), Err(PersonnummerError::Characters), "separator in the wrong place");
        assert_eq!(parse("6408233"), Err(PersonnummerError::Length));
        assert_eq!(parse("2027010112345"), Err(PersonnummerError::Length));
        assert_eq!(parse(""), Err(PersonnummerError::Empty));
        assert_eq!(parse("20301212-1212").unwrap_err(), PersonnummerError::Date, "born in the future");
    }

    #[test]
    fn neither_debug_nor_errors_show_the_number() {
        let p = Personnummer::parse("811218-9876", TODAY).unwrap();
        assert!(!format!("{p:?}").contains("8112"));
        let e = Personnummer::parse("811218-9875", TODAY).unwrap_err();
        assert!(!e.to_string().contains("8112"));
    }

    /// Property: every real date with any serial and its Luhn digit parses, in every form, to the
    /// same 12 digits; any other check digit is refused.
    #[test]
    fn generated_numbers_round_trip() {
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for _ in 0..5_000 {
            let year = 1930 + next(95) as i32;
            let month = 1 + next(12) as u32;
            let day = 1 + next(u64::from(days_in_month(year, month))) as u32;
            let coordination = next(4) == 0;
            let serial = next(1000);
            let shown_day = if coordination { day + 60 } else { day };
            let nine = format!("{:02}{month:02}{shown_day:02}{serial:03}", year % 100);
            let c = check_digit(nine.as_bytes());
            let twelve = format!("{}{}{c}", year / 100, nine);
            if (Date { year, month, day }) > TODAY {
                continue;
            }
            let ten_dash = format!("{}-{}{c}", &nine[..6], &nine[6..]);
            for form in
                [twelve.clone(), format!("{nine}{c}"), ten_dash, format!("{}-{}", &twelve[..8], &twelve[8..])]
            {
                let parsed = Personnummer::parse(&form, TODAY);
                assert_eq!(parsed.as_ref().map(|p| p.twelve_digits()).ok(), Some(twelve.clone()), "{form}");
            }
            let wrong = (c + 1 + next(9) as u8) % 10;
            assert_eq!(parse(&format!("{}{}{wrong}", year / 100, nine)), Err(PersonnummerError::CheckDigit));
        }
    }
}
