-- At most one run is active (queued or running, as `active_run` and `RunStatus::is_active`
-- say): two requests racing used to queue one run each. A run waiting for churn
-- confirmation is not active (a new run may start beside it) and goes back to the queue
-- only while no other run is active.
--
-- Runs queued side by side before this rule: the oldest stays active, since it is the one
-- `active_run` answered (the page and `server sync` followed it) and the first a worker
-- claims; the others fail with a message. A worker still on one of them is refused its
-- next write and stops.
update sync_runs
set status = 'failed',
    message = 'Stopped: another run was already active (at most one run is active at a time).',
    finished_at = cast(strftime('%s', 'now') as integer),
    claimed_by = null
where status in ('queued', 'running')
  and id > (select min(id) from sync_runs where status in ('queued', 'running'));

-- The indexed value is the same for every row: the partial index holds at most one.
create unique index sync_runs_one_active on sync_runs ((1)) where status in ('queued', 'running');
