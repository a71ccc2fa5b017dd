/*
 * chat.js - the botbasic web chat for one bot (served as /bots/{bot}).
 *
 * Protocol (WebSocket /ws/{bot}?session_id=..., see server/websocket.py):
 *   server -> {"type": "connected", "session_id": "..."}            once per connection
 *   client -> {"content": "text", "message_type": 1, "message_id": "...",
 *              "context_name"?: "..."}
 *   server -> envelopes {"content", "message_type": 2, "is_complete", "stream_token",
 *              "reply_to", "suggestions": [{"text", "context", "action"}], ...} (§7.7)
 *   server -> {"type": "error", "error": "..."}                      a refused frame
 *   Envelopes with is_complete=false are streamed parts of one answer and are appended to
 *   the current bubble; the final one (is_complete=true) closes it. When the final one
 *   carries the whole text (it starts with what was streamed) it replaces the bubble's
 *   text, otherwise it is appended.
 *
 * Sessions: the session id is kept in localStorage per bot, so a reload or a reconnect
 * (exponential backoff) continues the same conversation. On load the page shows the
 * session's stored history (GET /api/bots/{bot}/sessions/{id}/history) and the last
 * suggestions (localStorage).
 *
 * Delivery: every message has a message_id. Messages typed while disconnected are queued;
 * a message sent but not answered yet is sent again (same message_id) after a reconnect —
 * the server answers a message_id it has seen with the reply it stored, so nothing runs
 * twice.
 *
 * Safety: bot text is rendered by markdown.js, which escapes all HTML first; user text is
 * only ever set as textContent.
 */
(function () {
  "use strict";

  var BACKOFF_FIRST_MS = 500;
  var BACKOFF_MAX_MS = 15000;
  var TYPING_TIMEOUT_MS = 30000;
  var MAX_RESENDS = 3;

  var TOOL_EXEC = 6;
  var USER = 1;

  var bot = botName();
  var keys = {
    session: "botbasic:session:" + bot,
    suggestions: "botbasic:suggestions:" + bot
  };

  var el = {
    name: document.getElementById("bot-name"),
    avatar: document.getElementById("bot-avatar"),
    status: document.getElementById("connection-status"),
    statusText: document.getElementById("connection-text"),
    main: document.getElementById("chat-main"),
    messages: document.getElementById("messages"),
    typing: document.getElementById("typing"),
    suggestions: document.getElementById("suggestions"),
    form: document.getElementById("composer"),
    input: document.getElementById("message-input"),
    send: document.getElementById("send-button"),
    newChat: document.getElementById("new-chat")
  };

  var state = {
    socket: null,
    ready: false,          // "connected" received on the current socket
    sessionId: load(keys.session),
    attempt: 0,            // reconnect attempts since the last good connection
    reconnectTimer: null,
    countdownTimer: null,
    typingTimer: null,
    pending: [],           // [{payload, sent, tries}] not answered yet, in sending order
    stream: null           // {token, node, text} of the answer being streamed
  };

  // ------------------------------------------------------------------ start

  el.name.textContent = bot || "Bot";
  el.avatar.textContent = (bot || "B").charAt(0).toUpperCase();
  document.title = (bot || "Chat") + " · botbasic";
  wireComposer();
  el.newChat.addEventListener("click", newConversation);
  window.addEventListener("online", reconnectNow);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") reconnectNow();
  });
  if (bot) {
    loadHistory().then(connect);
  } else {
    setStatus("offline", "No bot given in the address");
  }

  // ------------------------------------------------------------------ connection

  function botName() {
    var fromQuery = new URLSearchParams(location.search).get("bot");
    if (fromQuery) return fromQuery;
    var parts = location.pathname.replace(/\/+$/, "").split("/");
    var i = parts.indexOf("bots");
    var raw = i >= 0 && parts[i + 1] ? parts[i + 1] : "";
    try { return decodeURIComponent(raw); } catch (e) { return raw; }
  }

  function socketUrl() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var url = scheme + location.host + "/ws/" + encodeURIComponent(bot);
    if (state.sessionId) url += "?session_id=" + encodeURIComponent(state.sessionId);
    return url;
  }

  function connect() {
    clearTimers();
    setStatus("connecting", state.attempt ? "Reconnecting…" : "Connecting…");
    var socket;
    try {
      socket = new WebSocket(socketUrl());
    } catch (e) {
      scheduleReconnect();
      return;
    }
    state.socket = socket;
    state.ready = false;
    socket.onmessage = function (event) {
      if (socket !== state.socket) return;
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (data && typeof data === "object") receive(data);
    };
    socket.onclose = function (event) {
      if (socket !== state.socket) return;  // replaced on purpose (new chat)
      state.socket = null;
      state.ready = false;
      finishStream();
      hideTyping();
      scheduleReconnect(event.reason);
    };
    socket.onerror = function () { /* onclose follows and reconnects */ };
  }

  function scheduleReconnect(reason) {
    clearTimers();
    var delay = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * Math.pow(2, state.attempt));
    delay += Math.floor(Math.random() * 250);
    state.attempt += 1;
    var due = Date.now() + delay;
    var tick = function () {
      if (navigator.onLine === false) {
        setStatus("offline", "Offline — waiting for the network");
        return;
      }
      var left = Math.max(0, Math.ceil((due - Date.now()) / 1000));
      setStatus("reconnecting", (reason ? reason + " — " : "Disconnected — ") +
                "retrying in " + left + " s");
    };
    tick();
    state.countdownTimer = setInterval(tick, 1000);
    state.reconnectTimer = setTimeout(connect, delay);
  }

  function reconnectNow() {
    if (!bot || state.socket) return;
    state.attempt = Math.min(state.attempt, 1);
    connect();
  }

  function clearTimers() {
    clearTimeout(state.reconnectTimer);
    clearInterval(state.countdownTimer);
    state.reconnectTimer = null;
    state.countdownTimer = null;
  }

  function setStatus(kind, text) {
    el.status.setAttribute("data-state", kind);
    el.statusText.textContent = text;
  }

  // ------------------------------------------------------------------ receiving

  function receive(data) {
    if (data.type === "connected") {
      onConnected(data);
    } else if (data.type === "error") {
      // A refused frame (frames are answered in order): do not send it again.
      for (var i = 0; i < state.pending.length; i++) {
        if (state.pending[i].sent) { state.pending.splice(i, 1); break; }
      }
      hideTyping();
      addNote(String(data.error || data.message || "The server refused the message."));
    } else if ("content" in data || "suggestions" in data) {
      onEnvelope(data);
    }
  }

  function onConnected(data) {
    var id = data.session_id ? String(data.session_id) : null;
    if (id && id !== state.sessionId) {
      if (state.sessionId) addNote("A new conversation started.");
      state.sessionId = id;
      save(keys.session, id);
    }
    state.ready = true;
    state.attempt = 0;
    setStatus("online", "Online");
    flushPending();
  }

  function onEnvelope(data) {
    var text = data.content == null ? "" : String(data.content);
    var token = data.stream_token == null ? null : String(data.stream_token);
    var role = data.message_type === USER ? "user" : "bot";
    if (data.reply_to != null) answered(String(data.reply_to));
    hideTyping();

    if (data.is_complete === false) {
      if (!state.stream || state.stream.token !== token) {
        finishStream();
        state.stream = { token: token, node: addMessage("bot", "", true), text: "" };
      }
      state.stream.text += text;
      renderBot(state.stream.node, state.stream.text);
      scrollToEnd(false);
      return;
    }

    if (state.stream && (state.stream.token === token || token === null)) {
      var streamed = state.stream.text;
      var whole = !text ? streamed : (text.indexOf(streamed) === 0 ? text : streamed + text);
      renderBot(state.stream.node, whole);
      finishStream();
    } else if (text) {
      finishStream();
      addMessage(role, text);
    }
    if (Array.isArray(data.suggestions)) {
      showSuggestions(data.suggestions);
      save(keys.suggestions, JSON.stringify({ session_id: state.sessionId,
                                              items: data.suggestions.slice(0, 30) }));
    }
    scrollToEnd(false);
  }

  // The reply to message `id` arrived: it and every message sent before it are answered.
  function answered(id) {
    for (var i = 0; i < state.pending.length; i++) {
      if (state.pending[i].payload.message_id === id) {
        state.pending.splice(0, i + 1);
        return;
      }
    }
  }

  function finishStream() {
    if (!state.stream) return;
    state.stream.node.removeAttribute("aria-busy");
    state.stream.node.classList.remove("streaming");
    state.stream = null;
  }

  // ------------------------------------------------------------------ sending

  function wireComposer() {
    el.form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = el.input.value;
      if (!text.trim()) return;
      el.input.value = "";
      autosize();
      sendMessage(text, null);
      el.input.focus();
    });
    el.input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        if (el.form.requestSubmit) el.form.requestSubmit(); else el.send.click();
      }
    });
    el.input.addEventListener("input", autosize);
    autosize();
  }

  function autosize() {
    el.input.style.height = "auto";
    el.input.style.height = Math.min(el.input.scrollHeight, 160) + "px";
    el.send.disabled = !el.input.value.trim();
  }

  // A click on a suggestion (envelopes.py): send_message sends its value, select_context
  // sends the text with context_name, invoke_tool runs the tool (message_type 6).
  function chooseSuggestion(s) {
    var action = s.action && typeof s.action === "object" ? s.action : {};
    var text = String(s.text);
    if (action.type === "invoke_tool" && action.tool) {
      sendMessage(String(action.tool), null, TOOL_EXEC, text);
    } else if (action.type === "send_message" && action.value != null && action.value !== "") {
      sendMessage(String(action.value), s.context);
    } else {
      sendMessage(text, s.context || action.context);
    }
  }

  function sendMessage(content, contextName, messageType, shown) {
    content = String(content).trim();
    if (!content) return;
    var payload = { content: content, message_type: messageType || USER, message_id: newId() };
    if (contextName) payload.context_name = String(contextName);
    finishStream();
    addMessage("user", shown || content);
    showSuggestions([]);
    remove(keys.suggestions);
    scrollToEnd(true);
    var entry = { payload: payload, sent: false, tries: 0 };
    state.pending.push(entry);
    if (isOpen()) {
      transmit(entry);
    } else if (!state.socket) {
      addNote("Not connected — your message will be sent when the connection is back.");
      reconnectNow();
    }  // else: still connecting; sent as soon as "connected" arrives
  }

  function isOpen() {
    return !!(state.socket && state.ready && state.socket.readyState === WebSocket.OPEN);
  }

  function transmit(entry) {
    entry.sent = true;
    entry.tries += 1;
    state.socket.send(JSON.stringify(entry.payload));
    showTyping();
  }

  // After (re)connecting: send what was queued, and again what was sent but not answered.
  function flushPending() {
    state.pending = state.pending.filter(function (entry) {
      return !entry.sent || entry.tries < MAX_RESENDS;
    });
    state.pending.forEach(function (entry) { if (isOpen()) transmit(entry); });
  }

  function newConversation() {
    var old = state.socket;
    state.socket = null;
    state.ready = false;
    if (old) old.close(1000, "new conversation");
    state.sessionId = null;
    state.pending = [];
    state.attempt = 0;
    finishStream();
    hideTyping();
    remove(keys.session);
    remove(keys.suggestions);
    el.messages.textContent = "";
    showSuggestions([]);
    connect();
    el.input.focus();
  }

  function newId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    return "m-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 10);
  }

  // ------------------------------------------------------------------ history

  // The stored messages of the saved session, and its last suggestions. A session the
  // server does not know (404) shows nothing; the connection then starts it afresh.
  function loadHistory() {
    if (!state.sessionId) return Promise.resolve();
    var url = "/api/bots/" + encodeURIComponent(bot) + "/sessions/" +
              encodeURIComponent(state.sessionId) + "/history";
    setStatus("connecting", "Loading the conversation…");
    return fetch(url, { headers: { "Accept": "application/json" } }).then(function (response) {
      if (response.status === 404) return null;
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    }).then(function (data) {
      var items = data && Array.isArray(data.messages) ? data.messages : [];
      el.messages.setAttribute("aria-live", "off");  // earlier messages are not news
      items.forEach(function (item) {
        if (item && (item.role === "user" || item.role === "bot") && item.content) {
          addMessage(item.role, String(item.content), false, true);
        }
      });
      setTimeout(function () { el.messages.setAttribute("aria-live", "polite"); }, 1000);
      var stored = null;
      try { stored = JSON.parse(load(keys.suggestions) || "null"); } catch (e) { stored = null; }
      if (items.length && stored && stored.session_id === state.sessionId) {
        showSuggestions(stored.items);
      }
      scrollToEnd(true);
    }).catch(function () {
      addNote("Earlier messages could not be loaded.");
    });
  }

  // ------------------------------------------------------------------ drawing

  function addMessage(role, text, streaming, quiet) {
    var row = document.createElement("div");
    row.className = "msg " + role + (quiet ? " earlier" : "");
    var label = document.createElement("span");
    label.className = "sr-only";
    label.textContent = role === "user" ? "You said: " : (bot || "Bot") + " said: ";
    var bubble = document.createElement("div");
    bubble.className = "bubble";
    row.appendChild(label);
    row.appendChild(bubble);
    if (role === "user") {
      bubble.textContent = text;
    } else {
      renderBot(bubble, text);
    }
    if (streaming) {
      bubble.classList.add("streaming");
      bubble.setAttribute("aria-busy", "true");
    }
    el.messages.appendChild(row);
    return bubble;
  }

  function renderBot(bubble, text) {
    bubble.innerHTML = window.BotMarkdown.render(text);  // escaped first: see markdown.js
  }

  function addNote(text) {
    var note = document.createElement("div");
    note.className = "note";
    note.textContent = text;
    el.messages.appendChild(note);
    scrollToEnd(true);
  }

  function showSuggestions(list) {
    el.suggestions.textContent = "";
    var shown = 0;
    (Array.isArray(list) ? list : []).forEach(function (s) {
      var text = s && s.text != null ? String(s.text) : "";
      if (!text) return;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "suggestion";
      button.textContent = text;
      button.addEventListener("click", function () { chooseSuggestion(s); });
      el.suggestions.appendChild(button);
      shown += 1;
    });
    el.suggestions.hidden = shown === 0;
  }

  function showTyping() {
    el.typing.hidden = false;
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(hideTyping, TYPING_TIMEOUT_MS);
    scrollToEnd(false);
  }

  function hideTyping() {
    clearTimeout(state.typingTimer);
    el.typing.hidden = true;
  }

  function scrollToEnd(force) {
    var box = el.main;
    var nearEnd = box.scrollHeight - box.scrollTop - box.clientHeight < 160;
    if (force || nearEnd) box.scrollTop = box.scrollHeight;
  }

  // ------------------------------------------------------------------ storage

  function load(key) {
    try { return window.localStorage.getItem(key); } catch (e) { return null; }
  }

  function save(key, value) {
    try { window.localStorage.setItem(key, value); } catch (e) { /* storage full or off */ }
  }

  function remove(key) {
    try { window.localStorage.removeItem(key); } catch (e) { /* storage off */ }
  }
})();
