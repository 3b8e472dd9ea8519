// A job page refreshes itself every 2 seconds while the job is running.
setTimeout(function () { window.location.reload(); }, 2000);
