//! Tables and trees that fit the terminal. Each column says how important it is and how it
//! gives way: when the width runs out, the least important columns go first, then long
//! headers take two lines, then long values are wrapped onto two lines or cut with `…`. A
//! row never takes more than two lines. Without a width (`--output wide`, or a pipe without
//! `COLUMNS`), every column is shown at full length.

use unicode_width::UnicodeWidthStr as _;

/// How important a column is: the lowest go first when space runs out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Priority {
    /// Dropped first.
    Low,
    /// Dropped after the low ones.
    Medium,
    /// Dropped last.
    High,
    /// Never dropped: the row means nothing without it.
    Essential,
}

/// How a column's values give way once the column is too narrow for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Give {
    /// Never shortened: counts, ages, yes/no.
    Keep,
    /// Cut with `…`, down to `min` characters: ids and names.
    Cut { min: usize },
    /// Wrapped onto two lines, the second cut with `…`, down to `min` per line: messages.
    Wrap { min: usize },
}

/// One column of a table.
#[derive(Debug, Clone, Copy)]
pub(super) struct Column {
    pub(super) header: &'static str,
    pub(super) priority: Priority,
    pub(super) give: Give,
}

impl Column {
    /// A column never shortened.
    pub(super) const fn keep(header: &'static str, priority: Priority) -> Self {
        Self {
            header,
            priority,
            give: Give::Keep,
        }
    }

    /// A column cut to at least `min` characters: ids and names.
    pub(super) const fn cut(header: &'static str, priority: Priority, min: usize) -> Self {
        Self {
            header,
            priority,
            give: Give::Cut { min },
        }
    }

    /// A column wrapped onto two lines of at least `min` characters: messages.
    pub(super) const fn wrap(header: &'static str, priority: Priority, min: usize) -> Self {
        Self {
            header,
            priority,
            give: Give::Wrap { min },
        }
    }
}

/// What a value means to the person reading it: the colour it gets, where colour is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Tone {
    /// No colour.
    #[default]
    Plain,
    /// Went well: green.
    Good,
    /// Needs a look: yellow.
    Warn,
    /// Failed or stuck: red.
    Bad,
}

impl Tone {
    /// `bad` when the count is above 0.
    pub(super) fn bad_above_zero(count: u64) -> Self {
        if count > 0 { Self::Bad } else { Self::Plain }
    }

    /// `warn` when the count is above 0.
    pub(super) fn warn_above_zero(count: u64) -> Self {
        if count > 0 { Self::Warn } else { Self::Plain }
    }

    /// `good` when the count is above 0.
    pub(super) fn good_above_zero(count: u64) -> Self {
        if count > 0 { Self::Good } else { Self::Plain }
    }
}

/// One value of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Cell {
    pub(super) text: String,
    pub(super) tone: Tone,
}

impl Cell {
    /// A value in a colour.
    pub(super) fn toned(text: impl Into<String>, tone: Tone) -> Self {
        Self {
            text: text.into(),
            tone,
        }
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Self {
        Self::toned(text, Tone::Plain)
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Self {
        Self::toned(text, Tone::Plain)
    }
}

/// A table laid out for a width: the columns kept, each with its width, and the values cut or
/// wrapped to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Fitted {
    /// The headers of the columns kept, wrapped to their widths.
    pub(super) headers: Vec<String>,
    /// The rows, with only the columns kept.
    pub(super) rows: Vec<Vec<Cell>>,
    /// The headers of the columns dropped, in table order.
    pub(super) dropped: Vec<&'static str>,
}

/// What the borders and padding of a table of `n` columns take: `│ a ┆ b │`.
fn overhead(n: usize) -> usize {
    3 * n + 1
}

fn text_width(text: &str) -> usize {
    text.lines().map(str::width).max().unwrap_or(0)
}

fn longest_word(text: &str) -> usize {
    text.split_whitespace().map(str::width).max().unwrap_or(0)
}

/// Lay `rows` out under `columns` in `width` columns (`None`: full length).
pub(super) fn table(columns: &[Column], rows: Vec<Vec<Cell>>, width: Option<usize>) -> Fitted {
    let Some(width) = width else {
        return Fitted {
            headers: columns.iter().map(|c| c.header.to_owned()).collect(),
            rows,
            dropped: Vec::new(),
        };
    };
    let content: Vec<usize> = (0..columns.len())
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|cell| text_width(&cell.text))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let natural: Vec<usize> = columns
        .iter()
        .zip(&content)
        .map(|(c, &w)| w.max(c.header.width()))
        .collect();
    let least: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let header = longest_word(c.header);
            match c.give {
                Give::Keep => content[i].max(header),
                Give::Cut { min } | Give::Wrap { min } => content[i].min(min).max(header),
            }
        })
        .collect();

    // Drop columns, least important (and rightmost among equals) first, until the rest fit.
    let mut kept: Vec<usize> = (0..columns.len()).collect();
    while overhead(kept.len()) + kept.iter().map(|&i| least[i]).sum::<usize>() > width {
        let Some(position) = kept
            .iter()
            .enumerate()
            .filter(|&(_, &i)| columns[i].priority != Priority::Essential)
            .min_by_key(|&(position, &i)| (columns[i].priority, std::cmp::Reverse(position)))
            .map(|(position, _)| position)
        else {
            break;
        };
        kept.remove(position);
    }

    // Narrow the columns kept: long headers first, then values, the least important column
    // first and the widest among equals.
    let mut widths: Vec<usize> = kept.iter().map(|&i| natural[i]).collect();
    let mut excess = (overhead(kept.len()) + widths.iter().sum::<usize>()).saturating_sub(width);
    for stage in [Stage::Headers, Stage::Values] {
        while excess > 0 {
            let next = (0..kept.len())
                .filter(|&k| stage.narrows(columns[kept[k]].give) && widths[k] > least[kept[k]])
                .min_by_key(|&k| (columns[kept[k]].priority, std::cmp::Reverse(widths[k])));
            let Some(k) = next else { break };
            widths[k] -= 1;
            excess -= 1;
        }
    }

    let headers = kept
        .iter()
        .zip(&widths)
        .map(|(&i, &w)| two_lines(columns[i].header, w))
        .collect();
    let dropped = (0..columns.len())
        .filter(|i| !kept.contains(i))
        .map(|i| columns[i].header)
        .collect();
    let rows = rows
        .into_iter()
        .map(|row| {
            let mut row: Vec<Option<Cell>> = row.into_iter().map(Some).collect();
            kept.iter()
                .zip(&widths)
                .map(|(&i, &w)| {
                    let cell = row
                        .get_mut(i)
                        .and_then(Option::take)
                        .unwrap_or_else(|| "".into());
                    let text = match columns[i].give {
                        Give::Keep => cell.text,
                        Give::Cut { .. } => cut(&cell.text, w),
                        Give::Wrap { .. } => two_lines(&cell.text, w),
                    };
                    Cell::toned(text, cell.tone)
                })
                .collect()
        })
        .collect();
    Fitted {
        headers,
        rows,
        dropped,
    }
}

/// The order in which columns are narrowed.
#[derive(Debug, Clone, Copy)]
enum Stage {
    /// Columns that never shorten their values, down to their header's longest word.
    Headers,
    /// Ids and names, cut, and messages, wrapped.
    Values,
}

impl Stage {
    fn narrows(self, give: Give) -> bool {
        matches!(
            (self, give),
            (Self::Headers, Give::Keep) | (Self::Values, Give::Cut { .. } | Give::Wrap { .. })
        )
    }
}

/// At most `width` columns, the last one `…` when cut.
pub(super) fn cut(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// Wrapped at spaces onto at most two lines of `width`, the second cut with `…`.
fn two_lines(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_owned();
    }
    let lines = textwrap::wrap(text, width.max(1));
    match lines.as_slice() {
        [] => String::new(),
        [one] => one.to_string(),
        [first, second] => format!("{first}\n{second}"),
        [first, ..] => {
            let rest = text.get(first.len()..).map_or("", str::trim_start);
            format!("{first}\n{}", cut(rest, width))
        }
    }
}

/// A line of a tree: its lead (the branches), what the next line of the same item is led by
/// when the text wraps, and the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TreeLine {
    pub(super) lead: String,
    pub(super) cont: String,
    pub(super) text: String,
    pub(super) tone: Tone,
    /// A command to copy: never wrapped, whatever the width.
    pub(super) command: bool,
}

impl TreeLine {
    /// The line as one string, at full length.
    pub(super) fn whole(&self) -> String {
        format!("{}{}", self.lead, self.text)
    }

    /// The line wrapped to `width` (`None`: one line), each further line under the first.
    pub(super) fn fitted(&self, width: Option<usize>) -> Vec<(String, String)> {
        let room = width.map(|w| w.saturating_sub(self.cont.width()).max(20));
        match room {
            Some(room)
                if !self.command
                    && self.lead.width() + self.text.width() > room + self.cont.width() =>
            {
                let options = textwrap::Options::new(room)
                    .break_words(false)
                    .word_splitter(textwrap::WordSplitter::NoHyphenation);
                textwrap::wrap(&self.text, options)
                    .into_iter()
                    .enumerate()
                    .map(|(n, part)| {
                        let lead = if n == 0 { &self.lead } else { &self.cont };
                        (lead.clone(), part.into_owned())
                    })
                    .collect()
            }
            _ => vec![(self.lead.clone(), self.text.clone())],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> [Column; 4] {
        [
            Column::keep("target", Priority::Essential),
            Column::cut("function", Priority::Low, 12),
            Column::keep("visible", Priority::High),
            Column::wrap("message", Priority::Essential, 12),
        ]
    }

    fn row(message: &str) -> Vec<Cell> {
        vec![
            "notification".into(),
            "ecomm-local-notification".into(),
            "5".into(),
            message.into(),
        ]
    }

    fn line_width(fitted: &Fitted) -> usize {
        let widths: Vec<usize> = (0..fitted.headers.len())
            .map(|k| {
                fitted
                    .rows
                    .iter()
                    .map(|r| text_width(&r[k].text))
                    .chain([text_width(&fitted.headers[k])])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        overhead(widths.len()) + widths.iter().sum::<usize>()
    }

    #[test]
    fn without_a_width_everything_is_shown_at_full_length() {
        let long = "SES is unavailable: connection timed out after 3 attempts";
        let fitted = table(&columns(), vec![row(long)], None);
        assert_eq!(fitted.headers, ["target", "function", "visible", "message"]);
        assert_eq!(fitted.rows[0][3].text, long);
        assert!(fitted.dropped.is_empty());
    }

    #[test]
    fn messages_wrap_onto_two_lines_before_any_column_goes() {
        let long = "SES is unavailable: connection timed out after 3 attempts";
        let fitted = table(&columns(), vec![row(long)], Some(80));
        assert!(fitted.dropped.is_empty());
        assert!(line_width(&fitted) <= 80);
        let message = &fitted.rows[0][3].text;
        assert_eq!(message.lines().count(), 2, "{message}");
        assert_eq!(message.replace('\n', " "), long);
    }

    #[test]
    fn the_least_important_column_goes_first_then_values_are_cut() {
        let long =
            "SES is unavailable: connection timed out after 3 attempts, and more words follow";
        let fitted = table(&columns(), vec![row(long)], Some(50));
        assert_eq!(fitted.dropped, ["function"]);
        assert!(line_width(&fitted) <= 50, "{fitted:?}");
        let message = &fitted.rows[0][2].text;
        assert_eq!(message.lines().count(), 2);
        assert!(message.ends_with('…'), "{message}");
        assert!(long.starts_with(message.lines().next().unwrap_or_default()));
    }

    #[test]
    fn long_headers_take_two_lines_before_values_are_cut() {
        let columns = [
            Column::keep("target", Priority::Essential),
            Column::keep("delivery failures", Priority::High),
            Column::cut("DLQ", Priority::High, 12),
        ];
        let rows = || {
            vec![vec![
                "notification".into(),
                "yes".into(),
                "ecomm-local-notification-dlq".into(),
            ]]
        };
        let fitted = table(&columns, rows(), Some(58));
        assert_eq!(fitted.headers[1], "delivery\nfailures");
        assert_eq!(fitted.rows[0][2].text, "ecomm-local-notification-dlq");
        let fitted = table(&columns, rows(), Some(44));
        assert_eq!(fitted.rows[0][2].text, "ecomm-local-n…");
        assert!(line_width(&fitted) <= 44, "{fitted:?}");
        let fitted = table(&columns, rows(), Some(40));
        assert_eq!(fitted.dropped, ["DLQ"]);
    }

    #[test]
    fn ids_are_cut_to_their_minimum_then_dropped_and_keep_their_colour() {
        let columns = [
            Column::cut("message", Priority::High, 8),
            Column::keep("order", Priority::Essential),
        ];
        let rows = vec![vec![
            Cell::toned("3f2a9c1e-0b7d-4d52-9e1a-6c8b2f4d7a10", Tone::Bad),
            "ord-00081".into(),
        ]];
        let fitted = table(&columns, rows.clone(), Some(24));
        assert_eq!(fitted.rows[0][0], Cell::toned("3f2a9c1…", Tone::Bad));
        let fitted = table(&columns, rows, Some(20));
        assert_eq!(fitted.dropped, ["message"], "never cut below its minimum");
    }

    #[test]
    fn a_tree_line_wraps_under_its_own_branch() {
        let line = TreeLine {
            lead: "├─ ".to_owned(),
            cont: "│     ".to_owned(),
            text: "notification  failed  2026-12-01 21:00:00.000 · 3 attempts".to_owned(),
            tone: Tone::Bad,
            command: false,
        };
        let lines = line.fitted(Some(40));
        assert!(lines.len() > 1);
        assert_eq!(lines[0].0, "├─ ");
        assert!(lines[1..].iter().all(|(lead, _)| lead == "│     "));
        assert!(
            lines
                .iter()
                .all(|(lead, text)| lead.width() + text.width() <= 40)
        );
        assert_eq!(line.fitted(None), [("├─ ".to_owned(), line.text.clone())]);
        let command = TreeLine {
            text: "replay: ecomm redrive --target notification --message-id 2bc7b75a-f9c5"
                .to_owned(),
            command: true,
            ..line
        };
        assert_eq!(
            command.fitted(Some(40)).len(),
            1,
            "a command is copied whole"
        );
    }
}
