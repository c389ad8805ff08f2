//! The tray icon's unread badge. Linux tray icons have no badge of their own, so
//! the count is drawn into the RGBA pixels: a red pill in the top-right corner with
//! white digits ("1"–"99", "99+"), nothing at 0, and the whole icon greyed while
//! the app is offline.

/// An RGBA8 image, row-major, 4 bytes per pixel.
#[derive(Clone, PartialEq, Eq)]
pub struct Rgba {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

impl std::fmt::Debug for Rgba {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Rgba({}x{})", self.width, self.height)
    }
}

impl Rgba {
    pub fn new(width: u32, height: u32, pixels: Vec<u8>) -> Self {
        assert_eq!(
            pixels.len(),
            (width * height * 4) as usize,
            "RGBA buffer size"
        );
        Self {
            width,
            height,
            pixels,
        }
    }

    pub fn pixel(&self, x: u32, y: u32) -> [u8; 4] {
        let i = ((y * self.width + x) * 4) as usize;
        [
            self.pixels[i],
            self.pixels[i + 1],
            self.pixels[i + 2],
            self.pixels[i + 3],
        ]
    }

    fn put(&mut self, x: i64, y: i64, color: [u8; 4]) {
        if x < 0 || y < 0 || x >= self.width as i64 || y >= self.height as i64 {
            return;
        }
        let i = ((y as u32 * self.width + x as u32) * 4) as usize;
        self.pixels[i..i + 4].copy_from_slice(&color);
    }
}

/// Badge fill (Tailwind red-600) and text colour.
pub const BADGE_RED: [u8; 4] = [220, 38, 38, 255];
pub const BADGE_TEXT: [u8; 4] = [255, 255, 255, 255];

/// What the badge says for `count` unread: nothing at 0, the number up to 99, "99+".
pub fn label(count: i64) -> Option<String> {
    match count {
        i64::MIN..=0 => None,
        1..=99 => Some(count.to_string()),
        _ => Some("99+".to_string()),
    }
}

/// Glyph cell: 5 columns by 7 rows, one string per row, `#` = ink.
const GLYPH_W: u32 = 5;
const GLYPH_H: u32 = 7;

fn glyph(c: char) -> [&'static str; 7] {
    match c {
        '0' => [
            " ### ", "#   #", "#  ##", "# # #", "##  #", "#   #", " ### ",
        ],
        '1' => [
            "  #  ", " ##  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### ",
        ],
        '2' => [
            " ### ", "#   #", "    #", "   # ", "  #  ", " #   ", "#####",
        ],
        '3' => [
            "#####", "   # ", "  #  ", "   # ", "    #", "#   #", " ### ",
        ],
        '4' => [
            "   # ", "  ## ", " # # ", "#  # ", "#####", "   # ", "   # ",
        ],
        '5' => [
            "#####", "#    ", "#### ", "    #", "    #", "#   #", " ### ",
        ],
        '6' => [
            "  ## ", " #   ", "#    ", "#### ", "#   #", "#   #", " ### ",
        ],
        '7' => [
            "#####", "    #", "   # ", "  #  ", " #   ", " #   ", " #   ",
        ],
        '8' => [
            " ### ", "#   #", "#   #", " ### ", "#   #", "#   #", " ### ",
        ],
        '9' => [
            " ### ", "#   #", "#   #", " ####", "    #", "   # ", " ##  ",
        ],
        '+' => [
            "     ", "  #  ", "  #  ", "#####", "  #  ", "  #  ", "     ",
        ],
        _ => ["     "; 7],
    }
}

/// Where the badge and each glyph go on a `size`×`size` icon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Pill rectangle: x, y, width, height.
    pub pill: (u32, u32, u32, u32),
    /// Pixel size of one font dot.
    pub scale: u32,
    /// Top-left corner of each glyph cell.
    pub glyphs: Vec<(u32, u32)>,
}

/// Lays out `text` in a pill anchored to the icon's top-right corner. The pill is
/// about half the icon high so that it stays readable at 22 px panel size.
pub fn layout(size: u32, text: &str) -> Layout {
    let n = text.chars().count() as u32;
    // Three glyphs need a smaller dot to fit the icon's width.
    let scale = if n >= 3 {
        (size / 24).max(1)
    } else {
        (size / 18).max(1)
    };
    let gap = scale;
    let text_w = n * GLYPH_W * scale + n.saturating_sub(1) * gap;
    let text_h = GLYPH_H * scale;
    let pad = (size / 16).max(1);
    let pill_h = (text_h + 2 * pad).min(size);
    let pill_w = (text_w + 2 * pad).max(pill_h).min(size);
    let pill_x = size - pill_w;
    let text_x = pill_x + (pill_w - text_w) / 2;
    let text_y = (pill_h - text_h) / 2;
    let glyphs = (0..n)
        .map(|i| (text_x + i * (GLYPH_W * scale + gap), text_y))
        .collect();
    Layout {
        pill: (pill_x, 0, pill_w, pill_h),
        scale,
        glyphs,
    }
}

/// The tray image for `count` unread while `online` (or not). `base` must be square.
pub fn render(base: &Rgba, count: i64, online: bool) -> Rgba {
    let mut img = base.clone();
    if let Some(text) = label(count) {
        draw_badge(&mut img, &text);
    }
    if !online {
        grey_out(&mut img);
    }
    img
}

fn draw_badge(img: &mut Rgba, text: &str) {
    let l = layout(img.width, text);
    let (px, py, pw, ph) = l.pill;
    // A pill: a rectangle with fully rounded ends (radius = half the height).
    let r = ph as f64 / 2.0;
    for y in py..py + ph {
        for x in px..px + pw {
            let cx = (x as f64 + 0.5).clamp(px as f64 + r, (px + pw) as f64 - r);
            let cy = py as f64 + r;
            let d = ((x as f64 + 0.5 - cx).powi(2) + (y as f64 + 0.5 - cy).powi(2)).sqrt();
            // One pixel of anti-aliasing on the rim.
            let coverage = (r - d + 0.5).clamp(0.0, 1.0);
            if coverage > 0.0 {
                blend(img, x, y, BADGE_RED, coverage);
            }
        }
    }
    for (c, (gx, gy)) in text.chars().zip(l.glyphs) {
        for (row, bits) in glyph(c).iter().enumerate() {
            for (col, bit) in bits.chars().enumerate() {
                if bit != '#' {
                    continue;
                }
                for dy in 0..l.scale {
                    for dx in 0..l.scale {
                        img.put(
                            (gx + col as u32 * l.scale + dx) as i64,
                            (gy + row as u32 * l.scale + dy) as i64,
                            BADGE_TEXT,
                        );
                    }
                }
            }
        }
    }
}

fn blend(img: &mut Rgba, x: u32, y: u32, color: [u8; 4], coverage: f64) {
    let under = img.pixel(x, y);
    let a = coverage;
    let mix = |c: u8, u: u8| (c as f64 * a + u as f64 * (1.0 - a)).round() as u8;
    let out_a = (255.0 * a + under[3] as f64 * (1.0 - a)).round() as u8;
    img.put(
        x as i64,
        y as i64,
        [
            mix(color[0], under[0]),
            mix(color[1], under[1]),
            mix(color[2], under[2]),
            out_a,
        ],
    );
}

/// Offline look: grey levels, a little transparent.
fn grey_out(img: &mut Rgba) {
    for px in img.pixels.chunks_exact_mut(4) {
        let l = (0.299 * px[0] as f64 + 0.587 * px[1] as f64 + 0.114 * px[2] as f64).round() as u8;
        // Lift toward mid-grey so the white bell and the dark background stay apart.
        let g = (l as u32 * 3 / 4 + 40).min(255) as u8;
        px[0] = g;
        px[1] = g;
        px[2] = g;
        px[3] = (px[3] as u32 * 3 / 4) as u8;
    }
}

/// Reads the digits back out of a rendered badge (tests use it to check pixels).
#[cfg(test)]
pub fn read_badge(img: &Rgba, text_len: usize) -> String {
    let candidates = "0123456789+";
    let text: String = "8".repeat(text_len);
    let l = layout(img.width, &text);
    l.glyphs
        .iter()
        .map(|&(gx, gy)| {
            let ink = |col: u32, row: u32| {
                let p = img.pixel(
                    gx + col * l.scale + l.scale / 2,
                    gy + row * l.scale + l.scale / 2,
                );
                p == BADGE_TEXT
            };
            candidates
                .chars()
                .find(|&c| {
                    glyph(c).iter().enumerate().all(|(row, bits)| {
                        bits.chars()
                            .enumerate()
                            .all(|(col, b)| (b == '#') == ink(col as u32, row as u32))
                    })
                })
                .unwrap_or('?')
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 64×64 icon of one opaque blue, so any change is easy to see.
    fn base() -> Rgba {
        Rgba::new(64, 64, [40, 60, 200, 255].repeat(64 * 64))
    }

    #[test]
    fn labels_follow_the_design() {
        assert_eq!(label(0), None);
        assert_eq!(label(-3), None);
        assert_eq!(label(1).as_deref(), Some("1"));
        assert_eq!(label(42).as_deref(), Some("42"));
        assert_eq!(label(99).as_deref(), Some("99"));
        assert_eq!(label(100).as_deref(), Some("99+"));
        assert_eq!(label(123_456).as_deref(), Some("99+"));
    }

    #[test]
    fn zero_unread_online_is_the_plain_icon() {
        assert_eq!(render(&base(), 0, true), base());
    }

    #[test]
    fn the_count_is_drawn_in_white_on_a_red_pill_in_the_top_right_corner() {
        for (count, text) in [
            (1, "1"),
            (7, "7"),
            (42, "42"),
            (99, "99"),
            (100, "99+"),
            (5000, "99+"),
        ] {
            let img = render(&base(), count, true);
            assert_eq!(read_badge(&img, text.len()), text, "count {count}");
            let (px, py, pw, ph) = layout(64, text).pill;
            // Pill interior away from the glyphs: red.
            assert_eq!(img.pixel(px + pw / 2, py + 1), BADGE_RED, "count {count}");
            // Bottom-left of the icon: untouched.
            assert_eq!(img.pixel(2, 62), [40, 60, 200, 255]);
            assert!(py + ph <= 64 && px + pw <= 64);
        }
    }

    #[test]
    fn the_badge_is_readable_at_tray_size() {
        // Half the icon's height: about 11 px on a 22 px panel.
        let (_, _, _, h) = layout(64, "7").pill;
        assert!(h >= 28, "pill height {h}");
        let (_, _, w, _) = layout(64, "99+").pill;
        assert!(w <= 64);
    }

    #[test]
    fn offline_icon_is_grey_everywhere_including_the_badge() {
        for count in [0, 5, 120] {
            let img = render(&base(), count, false);
            for px in img.pixels.chunks_exact(4) {
                assert!(px[0] == px[1] && px[1] == px[2], "pixel {px:?} is not grey");
            }
            assert!(img.pixel(2, 62)[3] < 255, "offline icon is dimmed");
        }
        // The badge is still there, just grey: the count stays visible offline.
        let img = render(&base(), 5, false);
        let (px, _, pw, _) = layout(64, "5").pill;
        assert_ne!(
            img.pixel(px + pw / 2, 1),
            render(&base(), 0, false).pixel(px + pw / 2, 1)
        );
    }

    #[test]
    fn works_on_the_shipped_tray_icon_size() {
        for size in [22, 32, 64, 128] {
            let img = render(
                &Rgba::new(size, size, vec![0; (size * size * 4) as usize]),
                99,
                true,
            );
            assert_eq!(img.width, size);
            assert_eq!(read_badge(&img, 2), "99", "size {size}");
        }
    }
}
