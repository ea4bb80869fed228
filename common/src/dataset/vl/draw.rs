//! EvalScope's `random_vl` picture: a background of one random colour and one to five random
//! shapes (filled rectangles, filled ellipses, lines 1–5 pixels wide), each of its own colour,
//! drawn from a seeded generator.

use rand::Rng;
use rand::rngs::StdRng;

use super::png::ImageMode;

/// A canvas of `mode` pixels.
struct Canvas {
    w: u32,
    h: u32,
    mode: ImageMode,
    px: Vec<u8>,
}

impl Canvas {
    fn put(&mut self, x: i64, y: i64, c: &[u8; 4]) {
        if x < 0 || y < 0 || x >= i64::from(self.w) || y >= i64::from(self.h) {
            return;
        }
        let n = self.mode.channels();
        let at = (y as usize * self.w as usize + x as usize) * n;
        self.px[at..at + n].copy_from_slice(&c[..n]);
    }
}

/// A colour in `mode`: grey is ITU-R 601-2 luma of the drawn red, green and blue (PIL's `L`).
fn color(rng: &mut StdRng, mode: ImageMode) -> [u8; 4] {
    let (r, g, b): (u8, u8, u8) = (rng.random(), rng.random(), rng.random());
    match mode {
        ImageMode::L => {
            let l = (u32::from(r) * 299 + u32::from(g) * 587 + u32::from(b) * 114) / 1000;
            [l as u8, 0, 0, 0]
        }
        _ => [r, g, b, 255],
    }
}

/// The pixels of one picture, rows top to bottom.
pub fn picture(rng: &mut StdRng, w: u32, h: u32, mode: ImageMode) -> Vec<u8> {
    let bg = color(rng, mode);
    let n = mode.channels();
    let mut c = Canvas {
        w,
        h,
        mode,
        px: bg[..n].repeat(w as usize * h as usize),
    };
    for _ in 0..rng.random_range(1..=5) {
        let shape = rng.random_range(0..3);
        let (mut x1, mut y1) = (rng.random_range(0..w), rng.random_range(0..h));
        let (mut x2, mut y2) = (rng.random_range(0..w), rng.random_range(0..h));
        if x1 > x2 {
            std::mem::swap(&mut x1, &mut x2);
        }
        if y1 > y2 {
            std::mem::swap(&mut y1, &mut y2);
        }
        if x1 == x2 {
            x2 = (x1 + 1).min(w - 1);
        }
        if y1 == y2 {
            y2 = (y1 + 1).min(h - 1);
        }
        let col = color(rng, mode);
        let (x1, y1, x2, y2) = (i64::from(x1), i64::from(y1), i64::from(x2), i64::from(y2));
        match shape {
            0 => {
                for y in y1..=y2 {
                    for x in x1..=x2 {
                        c.put(x, y, &col);
                    }
                }
            }
            1 => {
                // inside the ellipse inscribed in the box
                let (cx, cy) = ((x1 + x2) as f64 / 2.0, (y1 + y2) as f64 / 2.0);
                let (rx, ry) = (
                    ((x2 - x1) as f64 / 2.0).max(0.5),
                    ((y2 - y1) as f64 / 2.0).max(0.5),
                );
                for y in y1..=y2 {
                    for x in x1..=x2 {
                        let (dx, dy) = ((x as f64 - cx) / rx, (y as f64 - cy) / ry);
                        if dx * dx + dy * dy <= 1.0 {
                            c.put(x, y, &col);
                        }
                    }
                }
            }
            _ => {
                // a line from corner to corner, `width` pixels thick
                let width = rng.random_range(1..=5i64);
                let steps = (x2 - x1).max(y2 - y1).max(1);
                for s in 0..=steps {
                    let x = x1 + (x2 - x1) * s / steps;
                    let y = y1 + (y2 - y1) * s / steps;
                    for d in 0..width {
                        let o = d - width / 2;
                        c.put(x + o, y, &col);
                        c.put(x, y + o, &col);
                    }
                }
            }
        }
    }
    c.px
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn pictures_have_their_size_are_seeded_and_not_blank() {
        let mut a = StdRng::seed_from_u64(3);
        let p = picture(&mut a, 40, 30, ImageMode::Rgb);
        assert_eq!(p.len(), 40 * 30 * 3);
        let mut b = StdRng::seed_from_u64(3);
        assert_eq!(picture(&mut b, 40, 30, ImageMode::Rgb), p);
        let first = &p[..3];
        assert!(p.chunks(3).any(|px| px != first), "shapes are drawn");
        let mut c = StdRng::seed_from_u64(3);
        assert_eq!(picture(&mut c, 5, 4, ImageMode::L).len(), 20);
        assert_eq!(picture(&mut c, 1, 1, ImageMode::Rgba).len(), 4);
    }
}
