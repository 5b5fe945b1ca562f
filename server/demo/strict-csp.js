// Counts Content-Security-Policy violations on the strict-CSP demo page (an external file: the
// page's policy allows no inline script).
(function () {
  var count = 0;
  document.addEventListener("securitypolicyviolation", function (e) {
    count++;
    document.getElementById("violations").textContent = String(count);
    var li = document.createElement("li");
    li.textContent = e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " " + (e.sample || "");
    document.getElementById("violation-log").append(li);
  });
  document.getElementById("open").addEventListener("click", function () {
    window.DGbot.open("Do you have a floor lamp?");
  });
})();
