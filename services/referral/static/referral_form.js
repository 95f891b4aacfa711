// The new-referral form's helpers (a file, not inline: the Content-Security-Policy forbids
// inline script). Everything here also works without it: the server checks every field.
(function () {
  "use strict";
  var BANGKOK_OFFSET_MIN = 7 * 60; // Asia/Bangkok has no daylight saving time

  function bangkokLocal(date) {
    // "YYYY-MM-DDTHH:MM" on the Bangkok clock, whatever the phone's own time zone.
    var shifted = new Date(date.getTime() + BANGKOK_OFFSET_MIN * 60000);
    return shifted.toISOString().slice(0, 16);
  }

  function sumNihss(form) {
    var items = form.querySelectorAll("select.nihss-item");
    var total = 0;
    var any = false;
    items.forEach(function (item) {
      if (item.value !== "") {
        any = true;
        total += parseInt(item.value, 10);
      }
    });
    if (any) {
      form.querySelector("#nihss").value = String(total);
    }
  }

  function setUp() {
    var form = document.getElementById("referral-form");
    if (!form) {
      return;
    }
    var lkw = form.querySelector("#lkw");
    form.querySelectorAll("[data-lkw-minutes]").forEach(function (chip) {
      chip.addEventListener("click", function () {
        var minutes = parseInt(chip.getAttribute("data-lkw-minutes"), 10);
        lkw.value = bangkokLocal(new Date(Date.now() - minutes * 60000));
        lkw.dispatchEvent(new Event("change", { bubbles: true }));
      });
    });
    form.querySelectorAll("select.nihss-item").forEach(function (item) {
      item.addEventListener("change", function () { sumNihss(form); });
    });
    var unknown = form.querySelector("input[name=hn_unknown]");
    var hn = form.querySelector("#hn");
    function followUnknown() {
      hn.disabled = unknown.checked;
    }
    unknown.addEventListener("change", followUnknown);
    followUnknown();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
