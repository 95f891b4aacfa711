// The web app's shared script: the same time rules as the server's filters
// (services/referral/domain/display_time.py), read from the page: <html data-time-zone
// data-buddhist-era data-language>. Pages format live times with FastTrack.clock(date),
// FastTrack.date(date), FastTrack.moment(date) and FastTrack.interval(milliseconds).
"use strict";
(() => {
  const root = document.documentElement;
  const zone = root.dataset.timeZone || "Asia/Bangkok";
  const buddhistEra = root.dataset.buddhistEra === "true";
  const language = root.dataset.language === "en" ? "en" : "th";
  const thaiMonths = ["ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.",
    "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค."];
  const englishMonths = ["Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const parts = (date) => {
    const found = {};
    new Intl.DateTimeFormat("en-GB", {
      timeZone: zone, year: "numeric", month: "numeric", day: "numeric",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    }).formatToParts(date).forEach((part) => { found[part.type] = part.value; });
    return found;
  };
  const clock = (date) => { const p = parts(date); return `${p.hour}:${p.minute}`; };
  const dateOnly = (date) => {
    const p = parts(date);
    const months = language === "th" ? thaiMonths : englishMonths;
    const year = Number(p.year) + (buddhistEra ? 543 : 0);
    return `${Number(p.day)} ${months[Number(p.month) - 1]} ${year}`;
  };
  const interval = (milliseconds) => {
    // Whole minutes cut toward zero, never rounded up: 59 min 50 s is "0:59".
    const seconds = Math.trunc(milliseconds / 1000);
    const sign = seconds < 0 ? "-" : "";
    const minutes = Math.floor(Math.abs(seconds) / 60);
    return `${sign}${Math.floor(minutes / 60)}:${String(minutes % 60).padStart(2, "0")}`;
  };
  window.FastTrack = {
    clock, date: dateOnly, interval, moment: (date) => `${dateOnly(date)} ${clock(date)}`,
  };
})();
