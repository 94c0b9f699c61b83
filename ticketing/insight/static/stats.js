// Turno reports page: typing a date switches the period to "custom", so that the dates typed are the
// ones shown; the print button prints the page (its print styles hide the navigation and the filters).
(function () {
  'use strict';
  const period = document.getElementById('f-period');
  for (const id of ['f-from', 'f-to']) {
    const input = document.getElementById(id);
    if (input && period) input.addEventListener('change', () => { period.value = 'custom'; });
  }
  for (const b of document.querySelectorAll('[data-print]')) b.addEventListener('click', () => window.print());
})();
