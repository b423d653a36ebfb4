//! The last minutes of refreshes in memory, as frames (the interface's
//! rewind): the same encoding as a recording on disk, so an idle process
//! costs nothing after its key frame.

use std::collections::VecDeque;

use super::frame::Kind;
use super::store::FrameInfo;
use super::Frames;

pub struct Ring {
    frames: VecDeque<(FrameInfo, Vec<u8>)>,
    /// Frames older than this many seconds before the newest go, a whole
    /// group at a time.
    keep_secs: f64,
    /// So do the oldest groups while the frames take more bytes than this
    /// (the newest group always stays).
    max_bytes: usize,
    next_id: i64,
    last_key: i64,
    bytes: usize,
}

impl Ring {
    pub fn new(keep_secs: f64, max_bytes: usize) -> Ring {
        Ring {
            frames: VecDeque::new(),
            keep_secs,
            max_bytes,
            next_id: 1,
            last_key: 0,
            bytes: 0,
        }
    }

    /// Adds the newest frame; drops the oldest group while the group after
    /// it is older than `keep_secs`, or while the frames take more than
    /// `max_bytes`.
    pub fn push(&mut self, time: f64, kind: Kind, data: Vec<u8>) {
        let id = self.next_id;
        self.next_id += 1;
        if kind == Kind::Key {
            self.last_key = id;
        }
        self.bytes += data.len();
        let info = FrameInfo {
            id,
            session: 1,
            time,
            key: self.last_key,
        };
        self.frames.push_back((info, data));
        loop {
            let first_key = self.frames.front().map(|(f, _)| f.key);
            let second = self
                .frames
                .iter()
                .find(|(f, _)| f.id == f.key && Some(f.key) != first_key)
                .map(|(f, _)| f.time);
            match second {
                Some(t) if t <= time - self.keep_secs || self.bytes > self.max_bytes => {
                    while self
                        .frames
                        .front()
                        .is_some_and(|(f, _)| Some(f.key) == first_key)
                    {
                        if let Some((_, data)) = self.frames.pop_front() {
                            self.bytes -= data.len();
                        }
                    }
                }
                _ => break,
            }
        }
    }

    /// The newest frame.
    pub fn newest(&self) -> Option<FrameInfo> {
        self.frames.back().map(|(f, _)| *f)
    }

    /// Bytes the frames take.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    fn index(&self, id: i64) -> Option<usize> {
        let first = self.frames.front()?.0.id;
        let i = usize::try_from(id - first).ok()?;
        (i < self.frames.len()).then_some(i)
    }
}

impl Frames for Ring {
    fn frame_at(&self, time: f64) -> anyhow::Result<Option<FrameInfo>> {
        let before = self.frames.iter().rev().find(|(f, _)| f.time <= time);
        Ok(before.or(self.frames.front()).map(|(f, _)| *f))
    }

    fn neighbour(&self, id: i64, later: bool) -> anyhow::Result<Option<FrameInfo>> {
        let next = if later { id + 1 } else { id - 1 };
        Ok(self.index(next).map(|i| self.frames[i].0))
    }

    fn each_frame(
        &self,
        from: i64,
        to: i64,
        each: &mut dyn FnMut(FrameInfo, &[u8]) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        for (info, data) in self
            .frames
            .iter()
            .filter(|(f, _)| f.id >= from && f.id <= to)
        {
            each(*info, data)?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn whole_groups_older_than_the_window_go() {
        let mut ring = Ring::new(10.0, usize::MAX);
        // A key frame every 3 frames, one a second.
        for t in 0..20 {
            let kind = if t % 3 == 0 { Kind::Key } else { Kind::Delta };
            ring.push(f64::from(t), kind, vec![0; 10]);
        }
        let first = ring.frames.front().unwrap().0;
        // The oldest kept group starts with a key frame, and the group
        // after it is within the last 10 s.
        assert_eq!(first.id, first.key);
        assert_eq!(first.time, 9.0);
        assert_eq!(ring.bytes(), 11 * 10);
        assert_eq!(ring.frame_at(12.5).unwrap().unwrap().time, 12.0);
        assert_eq!(ring.frame_at(1.0).unwrap().unwrap().time, 9.0);
        let newest = ring.newest().unwrap();
        assert_eq!(ring.neighbour(newest.id, true).unwrap(), None);
        assert_eq!(ring.neighbour(first.id, false).unwrap(), None);
        let mut seen = Vec::new();
        ring.each_frame(first.id, first.id + 2, &mut |f, _| {
            seen.push(f.time);
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, [9.0, 10.0, 11.0]);
    }

    #[test]
    fn whole_groups_go_while_the_frames_take_more_than_the_budget() {
        // A key frame every 3 frames of 100 bytes, within the time window
        // but 1 000 bytes at most: the oldest groups go while the frames
        // take more, a whole group at a time.
        let mut ring = Ring::new(1e9, 1000);
        for t in 0..30 {
            let kind = if t % 3 == 0 { Kind::Key } else { Kind::Delta };
            ring.push(f64::from(t), kind, vec![0; 100]);
            assert!(
                ring.bytes() <= 1000,
                "{} bytes after frame {t}",
                ring.bytes()
            );
            let first = ring.frames.front().unwrap().0;
            assert_eq!(first.id, first.key, "the ring starts with a key frame");
        }
        // 10 frames of 100 bytes fit; the oldest whole group is dropped as
        // the next frame would make 11, so 8 to 10 frames stay.
        assert!((800..=1000).contains(&ring.bytes()), "{}", ring.bytes());
        assert_eq!(ring.newest().unwrap().time, 29.0);

        // A group larger than the budget on its own still stays whole.
        let mut ring = Ring::new(1e9, 150);
        for t in 0..3 {
            let kind = if t == 0 { Kind::Key } else { Kind::Delta };
            ring.push(f64::from(t), kind, vec![0; 100]);
        }
        assert_eq!(ring.bytes(), 300);
        assert_eq!(ring.frame_at(0.0).unwrap().unwrap().time, 0.0);
    }
}
