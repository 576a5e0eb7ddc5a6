//! Many environments in one command (`verify`, `diff` of all): each environment's inputs are
//! read on this thread (a snapshot may be a git object database, which one thread reads), the
//! pure work on them (rendering) runs in parallel, and the results are taken in environment
//! order, so the output and the error reported are those of a sequential run.

use rayon::prelude::*;

/// How many environments are read before their work runs in parallel: memory stays bounded
/// on a big fleet.
const CHUNK: usize = 256;

/// For each of `items`, in order: `read` it on this thread, `work` on what was read (in
/// parallel with the other items of its chunk), then `finish` with both on this thread. The
/// error returned is the first in `items`' order, whichever step it comes from, as in a loop
/// doing the three steps item by item; no item after it is finished.
pub(crate) fn in_order<I, R, W>(
    items: &[I],
    mut read: impl FnMut(&I) -> anyhow::Result<R>,
    work: impl Fn(&I, &R) -> anyhow::Result<W> + Sync,
    mut finish: impl FnMut(&I, R, W) -> anyhow::Result<()>,
) -> anyhow::Result<()>
where
    I: Sync,
    R: Send + Sync,
    W: Send,
{
    for chunk in items.chunks(CHUNK) {
        let mut read_items = Vec::with_capacity(chunk.len());
        let mut read_error = None;
        for item in chunk {
            match read(item) {
                Ok(r) => read_items.push(r),
                Err(e) => {
                    read_error = Some(e);
                    break;
                }
            }
        }
        let one = |(item, r): (&I, &R)| work(item, r);
        // One item is worked on here: starting the thread pool costs more.
        let worked: Vec<anyhow::Result<W>> = if read_items.len() > 1 {
            chunk
                .par_iter()
                .zip(read_items.par_iter())
                .map(one)
                .collect()
        } else {
            chunk.iter().zip(read_items.iter()).map(one).collect()
        };
        for ((item, r), w) in chunk.iter().zip(read_items).zip(worked) {
            finish(item, r, w?)?;
        }
        if let Some(e) = read_error {
            return Err(e);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Items 0..n; `read`, `work` and `finish` fail on the items named, and the steps each
    /// item went through are recorded.
    fn run(
        n: usize,
        bad_read: usize,
        bad_work: usize,
        bad_finish: usize,
    ) -> (Result<(), String>, Vec<usize>) {
        let items: Vec<usize> = (0..n).collect();
        let mut finished = Vec::new();
        let result = in_order(
            &items,
            |&i| match i == bad_read {
                true => Err(anyhow::anyhow!("read {i}")),
                false => Ok(i * 10),
            },
            |&i, &r| match i == bad_work {
                true => Err(anyhow::anyhow!("work {i}")),
                false => Ok(r + 1),
            },
            |&i, r, w| {
                assert_eq!((r, w), (i * 10, i * 10 + 1));
                if i == bad_finish {
                    return Err(anyhow::anyhow!("finish {i}"));
                }
                finished.push(i);
                Ok(())
            },
        );
        (result.map_err(|e| e.to_string()), finished)
    }

    #[test]
    fn every_item_is_finished_in_order() {
        let (result, finished) = run(600, usize::MAX, usize::MAX, usize::MAX);
        assert_eq!(result, Ok(()));
        assert_eq!(finished, (0..600).collect::<Vec<_>>());
    }

    #[test]
    fn the_first_failure_in_order_wins_whichever_step() {
        // Same chunk and across chunks (CHUNK items each), each step failing first.
        for (bad_read, bad_work, bad_finish, first) in [
            (40, 10, usize::MAX, "work 10"),
            (10, 40, usize::MAX, "read 10"),
            (40, usize::MAX, 10, "finish 10"),
            (300, 20, usize::MAX, "work 20"),
            (20, 300, usize::MAX, "read 20"),
            (300, usize::MAX, 299, "finish 299"),
            (0, usize::MAX, usize::MAX, "read 0"),
        ] {
            let (result, finished) = run(600, bad_read, bad_work, bad_finish);
            assert_eq!(result, Err(first.to_owned()));
            let stop: usize = first.rsplit(' ').next().unwrap().parse().unwrap();
            assert_eq!(finished, (0..stop).collect::<Vec<_>>(), "{first}");
        }
    }
}
