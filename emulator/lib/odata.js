// The OData filter of the REST API (docs/protocol.md 5): a boolean expression
// over a connection's connectionId, userId, protocol and groups.
//
//   userId eq 'alice'          connectionId ne 'c1'       protocol eq null
//   'room1' in groups          not('a' in groups)         x and (y or z)
//
// Inside a literal a quote is doubled ('vic''s').  Anything else is a
// parse error, which the REST layer answers with 400.

"use strict";

const MAX_FILTER = 16384;   // characters
const MAX_TOKENS = 2048;
const MAX_DEPTH = 64;

const FIELDS = { userid: "userId", connectionid: "connectionId", protocol: "protocol" };

class FilterError extends Error {}

function tokenize(text) {
  const tokens = [];
  let i = 0;
  while (i < text.length) {
    if (tokens.length > MAX_TOKENS) {
      throw new FilterError("the filter is too long");
    }
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === "(" || c === ")") {
      tokens.push({ kind: c });
      i++;
    } else if (c === "'") {
      let value = "";
      i++;
      for (;;) {
        if (i >= text.length) {
          throw new FilterError("a string literal is not closed");
        }
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += text[i];
        i++;
      }
      tokens.push({ kind: "string", value });
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i;
      while (j < text.length && /[A-Za-z0-9_]/.test(text[j])) {
        j++;
      }
      tokens.push({ kind: "word", value: text.slice(i, j), lower: text.slice(i, j).toLowerCase() });
      i = j;
    } else {
      throw new FilterError(`unexpected character '${c}' at ${i}`);
    }
  }
  return tokens;
}

function parse(text) {
  if (typeof text !== "string") {
    throw new FilterError("the filter is not a string");
  }
  if (text.length > MAX_FILTER) {
    throw new FilterError("the filter is too long");
  }
  const tokens = tokenize(text);
  let pos = 0;
  const peek = () => tokens[pos];
  const isWord = (t, w) => t && t.kind === "word" && t.lower === w;

  function operand() {
    const t = tokens[pos++];
    if (!t) {
      throw new FilterError("the filter ends too early");
    }
    if (t.kind === "string") {
      return { kind: "literal", value: t.value };
    }
    if (t.kind === "word" && t.lower === "null") {
      return { kind: "literal", value: null };
    }
    if (t.kind === "word" && FIELDS[t.lower]) {
      return { kind: "field", name: FIELDS[t.lower] };
    }
    throw new FilterError(`unexpected ${t.kind === "word" ? t.value : t.kind}`);
  }

  function primary(depth) {
    if (depth > MAX_DEPTH) {
      throw new FilterError("the filter is nested too deeply");
    }
    const t = peek();
    if (t && t.kind === "(") {
      pos++;
      const inner = orExpr(depth + 1);
      if (!peek() || peek().kind !== ")") {
        throw new FilterError("missing )");
      }
      pos++;
      return inner;
    }
    const left = operand();
    const op = tokens[pos++];
    if (isWord(op, "in")) {
      if (left.kind !== "literal" || typeof left.value !== "string") {
        throw new FilterError("'in' needs a string literal on its left");
      }
      if (!isWord(tokens[pos++], "groups")) {
        throw new FilterError("'in' is only supported with groups");
      }
      return { kind: "in", group: left.value };
    }
    if (!isWord(op, "eq") && !isWord(op, "ne")) {
      throw new FilterError(op ? `unsupported operator ${op.value || op.kind}` : "missing operator");
    }
    const right = operand();
    if (left.kind === "literal" && right.kind === "literal") {
      throw new FilterError("a comparison needs a field");
    }
    return { kind: op.lower, left, right };
  }

  function notExpr(depth) {
    if (depth > MAX_DEPTH) {
      throw new FilterError("the filter is nested too deeply");
    }
    if (isWord(peek(), "not")) {
      pos++;
      return { kind: "not", inner: notExpr(depth + 1) };
    }
    return primary(depth);
  }

  function andExpr(depth) {
    let node = notExpr(depth);
    while (isWord(peek(), "and")) {
      pos++;
      node = { kind: "and", left: node, right: notExpr(depth) };
    }
    return node;
  }

  function orExpr(depth) {
    let node = andExpr(depth);
    while (isWord(peek(), "or")) {
      pos++;
      node = { kind: "or", left: node, right: andExpr(depth) };
    }
    return node;
  }

  if (tokens.length === 0) {
    throw new FilterError("the filter is empty");
  }
  const tree = orExpr(0);
  if (pos !== tokens.length) {
    throw new FilterError("unexpected text after the expression");
  }
  return tree;
}

// conn: { connectionId, userId, protocol, groups: Set }
function evaluate(node, conn) {
  const value = (o) => (o.kind === "literal" ? o.value
    : conn[o.name] === undefined ? null : conn[o.name]);
  switch (node.kind) {
    case "eq":
      return value(node.left) === value(node.right);
    case "ne":
      return value(node.left) !== value(node.right);
    case "in":
      return conn.groups.has(node.group);
    case "not":
      return !evaluate(node.inner, conn);
    case "and":
      return evaluate(node.left, conn) && evaluate(node.right, conn);
    case "or":
      return evaluate(node.left, conn) || evaluate(node.right, conn);
    default:
      return false;
  }
}

// A predicate for a filter text; an empty or missing filter matches all.
function compile(text) {
  if (text === undefined || text === null || text.trim() === "") {
    return () => true;
  }
  const tree = parse(text);
  return (conn) => evaluate(tree, conn);
}

module.exports = { compile, FilterError };
