// turnoWaitText says a wait estimate (the API's "estimate" object) in the words the kiosk, the phone page
// and the printed ticket share: the rules of kiosk.WaitText in kiosk/status.go, never "no wait" while no
// desk is open. t translates a key of the page's catalogue with {name} variables.
'use strict';

window.turnoWaitText = function (est, t) {
  if (!est) return '';
  const n = Math.max(1, Math.ceil((est.wait_seconds || 0) / 60));
  switch (est.kind) {
    case 'desks_open':
      return est.wait_seconds > 0 ? t('kiosk.wait_minutes', { n }) : t('kiosk.wait_soon');
    case 'planned':
      return est.opens_time ? t('kiosk.wait_planned', { n, time: est.opens_time }) : t('kiosk.wait_planned_now', { n });
    case 'no_desk_open':
      return est.opens_time ? t('kiosk.wait_no_desk_until', { time: est.opens_time }) : t('kiosk.wait_no_desk');
  }
  if (!est.opens_at || !est.opens_date) return t('kiosk.wait_closed');
  if (est.opens_in_days === 1) return t('kiosk.wait_closed_tomorrow', { time: est.opens_time });
  return t('kiosk.wait_closed_on', { day: est.opens_date.slice(8, 10), month: est.opens_date.slice(5, 7), time: est.opens_time });
};
