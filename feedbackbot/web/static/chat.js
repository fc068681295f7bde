// Progressive enhancement of the chat form: send without a page reload and show replies in the live log.
// Without JavaScript the form posts normally and the page redraws; both paths store the same reply.
(function () {
  "use strict";
  var form = document.getElementById("reply-form");
  var log = document.getElementById("log");
  var list = document.getElementById("log-list");
  if (!form || !log || !list || !window.fetch) { return; }
  var token = log.getAttribute("data-token");
  var lastId = parseInt(log.getAttribute("data-last-id") || "0", 10);
  var policeLabel = log.getAttribute("data-police-label") || "Police said:";
  var box = document.getElementById("reply-text");
  var busy = false;

  function newId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID().replace(/-/g, ""); }
    return String(Date.now()) + String(Math.random()).slice(2, 12);
  }

  function addMessage(m) {
    if (m.id <= lastId) { return; }
    lastId = m.id;
    var li = document.createElement("li");
    li.className = "msg " + (m.from === "victim" ? "msg-victim" : "msg-police");
    var who = document.createElement("span");
    who.className = "visually-hidden";
    who.textContent = m.from === "victim" ? "You said:" : policeLabel;
    var p = document.createElement("p");
    p.textContent = m.text;  // textContent: victim and bot text are never parsed as HTML
    li.appendChild(who);
    li.appendChild(p);
    list.appendChild(li);
    li.scrollIntoView({ block: "end" });
  }

  function setChoices(quick) {
    var old = document.getElementById("choices");
    if (old) { old.parentNode.removeChild(old); }
    if (!quick || !quick.length) { return; }
    var fs = document.createElement("fieldset");
    fs.className = "choices";
    fs.id = "choices";
    var legend = document.createElement("legend");
    legend.textContent = "Choose an answer";
    fs.appendChild(legend);
    quick.forEach(function (q) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "choice";
      b.value = q.text;
      b.textContent = q.text + ". " + q.label;
      b.addEventListener("click", function () { send(q.text); });
      fs.appendChild(b);
    });
    form.insertBefore(fs, form.firstChild);
  }

  function finish() {
    var p = document.createElement("p");
    p.className = "finished";
    p.id = "finished";
    p.setAttribute("role", "status");
    p.textContent = "This survey has finished. Thank you for your time.";
    p.setAttribute("tabindex", "-1");
    form.parentNode.replaceChild(p, form);
    p.focus();  // the reply box has gone: keep keyboard and screen-reader users on the page's last word
    clearInterval(timer);
  }

  function apply(data) {
    var last = null;
    data.messages.forEach(function (m) { addMessage(m); last = m; });
    if (last && last.from === "police") { setChoices(last.quick_replies); }
    if (data.finished) { finish(); }
  }

  function send(text) {
    if (busy || !text.trim()) { return; }
    busy = true;
    addMessage({ id: lastId + 0.5, from: "victim", text: text });
    box.value = "";
    fetch("/s/" + token + "/messages", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({ text: text, client_id: newId() }),
      credentials: "same-origin"
    }).then(function (r) { return r.json(); }).then(function (data) {
      if (data.error) { showError(data.message); return; }
      // The stored reply's id replaces the temporary one, so polling never shows the reply twice.
      if (data.received_id && data.received_id > lastId) { lastId = data.received_id; }
      apply(data);
    }).catch(function () {
      showError("Your reply could not be sent. Please check your connection and try again.");
      box.value = text;
    }).then(function () { busy = false; if (box && document.body.contains(box)) { box.focus(); } });
  }

  function showError(text) {
    var e = document.getElementById("reply-error");
    if (!e) {
      e = document.createElement("p");
      e.id = "reply-error";
      e.className = "error";
      e.setAttribute("role", "alert");
      box.parentNode.insertBefore(e, box);
    }
    e.textContent = text;
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var submitter = ev.submitter;
    if (submitter && submitter.name === "text") { send(submitter.value); return; }
    send(box.value);
  });
  box.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); send(box.value); }
  });
  document.querySelectorAll("#choices button").forEach(function (b) {
    b.type = "button";
    b.addEventListener("click", function () { send(b.value); });
  });

  var timer = setInterval(function () {
    if (busy) { return; }
    fetch("/s/" + token + "/messages?after=" + Math.floor(lastId), { headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); }).then(function (data) { if (!data.error) { apply(data); } })
      .catch(function () {});
  }, 15000);
})();
