// The service's state: hubs, their connections, groups, users and the
// group permissions of each connection, and how a message reaches a client.

"use strict";

const MAX_BUFFERED = 16 * 1024 * 1024;   // bytes queued to one client
const MAX_ACK_IDS = 4096;                // ackIds remembered per connection
const MAX_USER_GROUPS = 100000;          // user->group entries per hub
const QUEUE_FULL = "The outbound message queue is full.";

// Roles and REST grants for one action (joinLeaveGroup or sendToGroup):
//   webpubsub.<action>               every group
//   webpubsub.<action>.<group>       that group
//   webpubsub.<action>s.<pattern>    * within a dot-separated segment,
//                                    ** across segments, ? one character
//                                    other than "." (case-sensitive)
class Permission {
  constructor(action, roles) {
    this.all = false;
    this.allow = new Set();
    this.deny = new Set();
    this.patterns = [];
    const exact = `webpubsub.${action}`;
    for (const role of roles) {
      if (role === exact) {
        this.all = true;
      } else if (role.startsWith(exact + ".") && role.length > exact.length + 1) {
        this.allow.add(role.slice(exact.length + 1));
      } else if (role.startsWith(exact + "s.") && role.length > exact.length + 2
                 && role.length <= 2048) {
        this.patterns.push(wildcard(role.slice(exact.length + 2)));
      }
    }
  }

  check(group) {
    if (this.deny.has(group)) {
      return false;
    }
    return this.all || this.allow.has(group) || this.patterns.some((re) => re.test(group));
  }

  has(target) {
    return target === undefined ? this.all && this.deny.size === 0 : this.check(target);
  }

  grant(target) {
    if (target === undefined) {
      this.all = true;
      this.deny.clear();
    } else {
      this.deny.delete(target);
      this.allow.add(target);
    }
  }

  revoke(target) {
    if (target === undefined) {
      this.all = false;
      this.allow.clear();
      this.deny.clear();
      this.patterns = [];
    } else {
      this.allow.delete(target);
      this.deny.add(target);
    }
  }
}

function wildcard(pattern) {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*" && pattern[i + 1] === "*") {
      source += ".*";
      i++;
    } else if (c === "*") {
      source += "[^.]*";
    } else if (c === "?") {
      source += "[^.]";
    } else {
      source += c.replace(/[.+^$()|[\]\\{}]/g, "\\$&");
    }
  }
  return new RegExp(`^${source}$`, "s");
}

// A message on its way to clients: dataType text|json|binary|protobuf and
// its bytes; json also carries the parsed value.
function makePayload(dataType, bytes, value) {
  const p = { dataType, bytes };
  if (dataType === "json") {
    p.value = value !== undefined ? value : JSON.parse(bytes.toString("utf8"));
  }
  return p;
}

function wireData(payload) {
  switch (payload.dataType) {
    case "text":
      return payload.bytes.toString("utf8");
    case "json":
      return payload.value;
    default:
      return payload.bytes.toString("base64");
  }
}

class Connection {
  constructor(fields) {
    Object.assign(this, fields);   // id, hub, userId, roles, subprotocol, mode, ws, claims, state
    this.groups = new Set();
    this.perms = {
      joinLeaveGroup: new Permission("joinLeaveGroup", this.roles),
      sendToGroup: new Permission("sendToGroup", this.roles),
    };
    this.ackIds = new Set();
    this.sequenceId = 0;       // last sequenceId sent (reliable protocol)
    this.ackedSequenceId = 0;  // last sequenceAck received
    this.eventId = 1;          // ce-id of the next event (connect was 0)
    this.cookies = this.cookies || new Map();   // set by the connect event's answer
    this.closed = false;
  }

  get protocol() {
    return this.subprotocol || null;
  }

  get connectionId() {
    return this.id;
  }

  rememberAck(ackId) {
    this.ackIds.add(ackId);
    if (this.ackIds.size > MAX_ACK_IDS) {
      this.ackIds.delete(this.ackIds.values().next().value);
    }
  }

  // false when the socket is gone or too far behind (then it is closed)
  sendFrame(data, binary) {
    const ws = this.ws;
    if (this.closed || ws.readyState !== 1) {
      return false;
    }
    if (ws.bufferedAmount > MAX_BUFFERED) {
      this.service.closeConnection(this, QUEUE_FULL, 1008);
      return false;
    }
    ws.send(data, { binary: !!binary });
    return true;
  }

  sendJson(obj) {
    return this.sendFrame(JSON.stringify(obj), false);
  }

  // A group or server message: a raw client gets the bytes, a JSON one the
  // message frame (with a sequenceId on the reliable protocol).
  deliver(payload, from, group, fromUserId) {
    if (this.mode === "raw") {
      const binary = payload.dataType === "binary" || payload.dataType === "protobuf";
      return this.sendFrame(payload.bytes, binary);
    }
    const msg = { type: "message", from };
    if (from === "group") {
      msg.group = group;
    }
    msg.dataType = payload.dataType;
    msg.data = wireData(payload);
    if (from === "group" && typeof fromUserId === "string") {
      msg.fromUserId = fromUserId;
    }
    if (this.mode === "reliable") {
      msg.sequenceId = ++this.sequenceId;
    }
    return this.sendJson(msg);
  }

}

class Hub {
  constructor(name) {
    this.name = name;                // lower-case
    this.connections = new Map();    // id -> Connection
    this.groups = new Map();         // group -> Set<Connection>
    this.users = new Map();          // userId -> Set<Connection>
    this.userGroups = new Map();     // userId -> Set<group> (REST, also future connections)
    this.userGroupCount = 0;
  }

  add(conn, groups) {
    this.connections.set(conn.id, conn);
    if (typeof conn.userId === "string") {
      setOf(this.users, conn.userId).add(conn);
      for (const g of this.userGroups.get(conn.userId) || []) {
        this.join(conn, g);
      }
    }
    for (const g of groups) {
      this.join(conn, g);
    }
  }

  remove(conn) {
    for (const g of conn.groups) {
      dropFrom(this.groups, g, conn);
    }
    conn.groups.clear();
    if (typeof conn.userId === "string") {
      dropFrom(this.users, conn.userId, conn);
    }
    this.connections.delete(conn.id);
  }

  join(conn, group) {
    conn.groups.add(group);
    setOf(this.groups, group).add(conn);
  }

  leave(conn, group) {
    conn.groups.delete(group);
    dropFrom(this.groups, group, conn);
  }

  leaveAll(conn) {
    for (const g of [...conn.groups]) {
      this.leave(conn, g);
    }
  }

  addUserToGroup(userId, group) {
    const set = setOf(this.userGroups, userId);
    if (!set.has(group) && this.userGroupCount < MAX_USER_GROUPS) {
      set.add(group);
      this.userGroupCount++;
    }
    for (const conn of this.users.get(userId) || []) {
      this.join(conn, group);
    }
  }

  removeUserFromGroup(userId, group) {
    const set = this.userGroups.get(userId);
    if (set && set.delete(group)) {
      this.userGroupCount--;
      if (set.size === 0) {
        this.userGroups.delete(userId);
      }
    }
    for (const conn of this.users.get(userId) || []) {
      this.leave(conn, group);
    }
  }

  removeUserFromAllGroups(userId) {
    const set = this.userGroups.get(userId);
    if (set) {
      this.userGroupCount -= set.size;
      this.userGroups.delete(userId);
    }
    for (const conn of this.users.get(userId) || []) {
      this.leaveAll(conn);
    }
  }

  groupMembers(group) {
    return [...(this.groups.get(group) || [])];
  }

  // the REST API's view: a connection to act on (or undefined), and what
  // exists (recorder.js has another world behind the same methods)
  connection(id) {
    return this.connections.get(id);
  }

  hasConnection(id) {
    return this.connections.has(id);
  }

  hasGroup(group) {
    return this.groups.has(group);
  }

  hasUser(userId) {
    return this.users.has(userId);
  }

  userConnections(userId) {
    return [...(this.users.get(userId) || [])];
  }

  all() {
    return [...this.connections.values()];
  }

  isEmpty() {
    return this.connections.size === 0 && this.userGroups.size === 0;
  }
}

function setOf(map, key) {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  return set;
}

function dropFrom(map, key, value) {
  const set = map.get(key);
  if (set) {
    set.delete(value);
    if (set.size === 0) {
      map.delete(key);
    }
  }
}

// All hubs, by lower-case name.
class Registry {
  constructor() {
    this.hubs = new Map();
  }

  hub(name) {
    const key = name.toLowerCase();
    let hub = this.hubs.get(key);
    if (!hub) {
      hub = new Hub(key);
      this.hubs.set(key, hub);
    }
    return hub;
  }

  // a hub to read from, without creating one
  peek(name) {
    return this.hubs.get(name.toLowerCase()) || new Hub(name.toLowerCase());
  }

  tidy(hub) {
    if (hub.isEmpty() && this.hubs.get(hub.name) === hub) {
      this.hubs.delete(hub.name);
    }
  }

  count() {
    let n = 0;
    for (const hub of this.hubs.values()) {
      n += hub.connections.size;
    }
    return n;
  }

  allConnections() {
    const out = [];
    for (const hub of this.hubs.values()) {
      out.push(...hub.connections.values());
    }
    return out;
  }
}

module.exports = { Registry, Connection, makePayload };
