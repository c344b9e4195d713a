//! The serve driver's decisions, event by event: no watcher, no files, no sleeps.

use super::*;

const T: Timing = Timing {
    debounce: Duration::from_millis(200),
    max_wait: Duration::from_millis(2000),
};

fn touched(path: &str, complete: bool) -> Event {
    Event::Fs(FsChange::Touched {
        path: PathBuf::from(path),
        complete,
    })
}

fn read(paths: &[(&str, bool)]) -> Action {
    let paths = paths.iter().map(|(p, c)| (p.to_string(), *c)).collect();
    Action::Apply(Apply::Read(paths))
}

fn started() -> (Machine, Folder, Instant) {
    let r1 = Folder::fake("/srv/r1", 1);
    (Machine::new(T, Some(r1.clone()), true), r1, Instant::now())
}

#[test]
fn a_completed_file_is_due_at_once_and_raw_writes_wait_for_quiet() {
    let (mut m, r1, t0) = started();
    // Idle: a turn a second (the watchdog, the content dir), or at the next future post.
    assert_eq!(m.deadline(t0, None), t0 + Duration::from_secs(1));
    assert_eq!(
        m.deadline(t0, Some(Duration::from_millis(300))),
        t0 + Duration::from_millis(300)
    );
    m.event(touched("/srv/r1/_posts/a.md", true), t0);
    assert!(m.gathering());
    assert_eq!(m.deadline(t0, None), t0);
    assert_eq!(
        m.turn(Some(r1.clone())),
        vec![read(&[("_posts/a.md", true)])]
    );
    // Raw writes: due after the quiet, never later than max_wait after the first.
    m.event(touched("/srv/r1/_posts/b.md", false), t0);
    let t1 = t0 + Duration::from_millis(150);
    m.event(touched("/srv/r1/_posts/b.md", false), t1);
    assert_eq!(m.deadline(t1, None), t1 + T.debounce);
    let late = t0 + Duration::from_millis(1950);
    m.event(touched("/srv/r1/_posts/b.md", false), late);
    assert_eq!(m.deadline(late, None), t0 + T.max_wait);
    assert_eq!(m.turn(Some(r1)), vec![read(&[("_posts/b.md", false)])]);
}

#[test]
fn half_written_files_and_new_folders_are_looked_at_again_once() {
    let (mut m, r1, t0) = started();
    m.event(touched("/srv/r1/news", true), t0);
    assert_eq!(m.turn(Some(r1.clone())), vec![read(&[("news", true)])]);
    m.applied(vec!["_posts/half.md".into()], vec!["news".into()]);
    // Due one debounce later, even with no event.
    assert_eq!(m.deadline(t0, None), t0 + T.debounce);
    assert_eq!(
        m.turn(Some(r1.clone())),
        vec![read(&[("_posts/half.md", true), ("news", true)])]
    );
    m.applied(Vec::new(), vec!["news".into()]);
    // Listed twice: not a third time.
    assert_eq!(m.turn(Some(r1)), vec![]);
}

#[test]
fn a_replaced_content_dir_is_watched_and_rescanned_once_and_the_old_one_ignored() {
    let (mut m, r1, t0) = started();
    let r2 = Folder::fake("/srv/r2", 2);
    m.event(touched("/srv/r1/_posts/a.md", true), t0);
    m.applied(vec!["_posts/half.md".into()], Vec::new());
    let actions = m.turn(Some(r2.clone()));
    assert_eq!(
        actions,
        vec![
            Action::Log(Log::Replaced(PathBuf::from("/srv/r2"))),
            Action::Watch {
                folder: PathBuf::from("/srv/r2"),
                loud: true
            },
            Action::Apply(Apply::Scan),
        ]
    );
    m.watched(true, t0);
    assert_eq!(m.root(), Some(&PathBuf::from("/srv/r2")));
    // The old release's removal reaches no batch; the new one's edits do.
    m.event(touched("/srv/r1/_posts/a.md", true), t0);
    assert!(!m.gathering());
    m.event(touched("/srv/r2/_posts/b.md", true), t0);
    assert_eq!(
        m.turn(Some(r2.clone())),
        vec![read(&[("_posts/b.md", true)])]
    );
    // A folder renamed into the old one's place: same path, another folder.
    let again = Folder::fake("/srv/r1", 3);
    assert!(matches!(
        m.turn(Some(again))[..],
        [Action::Log(Log::Replaced(_)), ..]
    ));
    let _ = r1;
}

#[test]
fn a_gone_content_dir_keeps_serving_and_is_followed_when_it_returns() {
    let (mut m, r1, t0) = started();
    m.event(touched("/srv/r1/_posts/a.md", true), t0);
    assert_eq!(m.turn(None), vec![Action::Log(Log::Gone), Action::Unwatch]);
    // Said once; nothing is read while it is gone.
    assert_eq!(m.turn(None), vec![]);
    m.event(touched("/srv/r1/_posts/a.md", true), t0);
    assert!(!m.gathering());
    let back = m.turn(Some(r1));
    assert_eq!(back.last(), Some(&Action::Apply(Apply::Scan)));
    assert!(matches!(back[0], Action::Log(Log::Replaced(_))));
}

#[test]
fn a_failed_watch_is_tried_again_quietly_and_a_rescan_follows_when_it_works() {
    let r1 = Folder::fake("/srv/r1", 1);
    let mut m = Machine::new(T, Some(r1.clone()), false);
    let t0 = Instant::now();
    let retry = Action::Watch {
        folder: PathBuf::from("/srv/r1"),
        loud: false,
    };
    assert_eq!(m.turn(Some(r1.clone())), vec![retry]);
    m.watched(false, t0);
    assert!(!m.gathering(), "still failing: no rescan");
    assert_eq!(m.turn(Some(r1.clone())).len(), 1);
    m.watched(true, t0);
    assert!(
        m.gathering(),
        "watching again: what changed meanwhile is rescanned"
    );
    assert_eq!(m.deadline(t0, None), t0);
    assert_eq!(m.turn(Some(r1.clone())), vec![Action::Apply(Apply::Scan)]);
    assert_eq!(m.turn(Some(r1)), vec![]);
}

#[test]
fn lost_events_mean_a_rescan() {
    let (mut m, r1, t0) = started();
    m.event(Event::WatchError, t0);
    assert!(m.gathering());
    assert_eq!(m.turn(Some(r1)), vec![Action::Apply(Apply::Scan)]);
}
