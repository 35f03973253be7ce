/* streamkit._speedups: the compiled hot path of streamkit.sse.SSEParser.feed.
 *
 * How it works. streamkit/sse.py calls install(SSEParser, ServerSentEvent, python_feed) at
 * import. install() checks that every attribute the fast path touches is a plain object slot
 * (a member descriptor of the class itself) and records its offset; when anything differs
 * (another attrs, another layout) it raises TypeError and sse.py stays pure Python. It
 * returns a method descriptor that sse.py sets as SSEParser.feed.
 *
 * feed(self, data) handles exactly the case of SSEParser._feed_fast: a bytes chunk, after
 * the BOM check, no CR pending, no diagnostics, no error, not closed, whose line ends are
 * all LF or all CRLF (or that has none). It decides this before changing any state; for
 * anything else it calls python_feed(self, data), the pure-Python reference. The common
 * lines (blank, "data: ", "event: ", "id: ", comments) are handled here on the raw bytes;
 * any other line goes to self._field(line, offset, lineno) and every limit error to the
 * Python method that formats and raises it (_fail_line, _fail_event, _check_open), after
 * the state has been written back, so errors and messages are those of the reference.
 * Events are allocated as ServerSentEvent and their six slots stored directly, as the
 * pure-Python path does through _EventSlots.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <string.h>

/* -- slot offsets, filled by install() ------------------------------------------------ */

enum {
    P_ERROR, P_CLOSED, P_DIAG, P_STARTED, P_SKIP_LF, P_TAIL, P_TAIL_LEN, P_POS, P_LINENO,
    P_DATA, P_TYPE, P_ID_BUF, P_LAST_ID, P_BLOCK_RETRY, P_BLOCK_OFF, P_BLOCK_LINE,
    P_TYPE_LINE, P_TYPE_VALUE, P_MAX_LINE, P_MAX_EVENT, P_COUNT
};
static const char *const parser_slots[P_COUNT] = {
    "_error", "_closed", "_diag", "_started", "_skip_lf", "_tail", "_tail_len", "_pos",
    "_lineno", "_data", "_type", "_id_buf", "last_event_id", "_block_retry", "_block_off",
    "_block_line", "_type_line", "_type_value", "_max_line", "_max_event",
};
enum { E_EVENT, E_DATA, E_ID, E_RETRY, E_OFFSET, E_LINE, E_COUNT };
static const char *const event_slots[E_COUNT] = {
    "event", "data", "id", "retry", "offset", "line",
};

static Py_ssize_t poff[P_COUNT];
static Py_ssize_t eoff[E_COUNT];
static PyTypeObject *parser_type = NULL;
static PyTypeObject *event_type = NULL;
static PyObject *python_feed = NULL;
static PyObject *str_message, *str_empty, *str_lf;
static PyObject *str_field, *str_fail_line, *str_fail_event, *str_check_open;

#define SLOT(obj, off) (*(PyObject **)((char *)(obj) + (off)))
#define PGET(self, i) SLOT(self, poff[i])

/* Store a new reference in a slot (steals `value`). */
static inline void
pset(PyObject *self, int i, PyObject *value)
{
    PyObject *old = PGET(self, i);
    PGET(self, i) = value;
    Py_XDECREF(old);
}

static int
pset_ssize(PyObject *self, int i, Py_ssize_t value)
{
    PyObject *v = PyLong_FromSsize_t(value);
    if (v == NULL) {
        return -1;
    }
    pset(self, i, v);
    return 0;
}

/* Read an int slot; 0 on success, -1 (no exception set) when it is not a small int. */
static int
pget_ssize(PyObject *self, int i, Py_ssize_t *out)
{
    PyObject *v = PGET(self, i);
    if (v == NULL || !PyLong_CheckExact(v)) {
        return -1;
    }
    Py_ssize_t n = PyLong_AsSsize_t(v);
    if (n == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return -1;
    }
    *out = n;
    return 0;
}

/* -- the parser state while a chunk is processed -------------------------------------- */

typedef struct {
    Py_ssize_t pos, lineno, block_off, block_line, max_line, max_event;
    PyObject *parts;       /* the block's data list (self._data), borrowed from self */
    PyObject *etype;       /* owned */
    PyObject *id_buf;      /* owned */
    PyObject *committed;   /* owned */
    PyObject *block_retry; /* owned */
    PyObject *type_line;   /* owned (bytes) */
    PyObject *type_value;  /* owned (str) */
} State;

static void
state_clear(State *st)
{
    Py_CLEAR(st->etype);
    Py_CLEAR(st->id_buf);
    Py_CLEAR(st->committed);
    Py_CLEAR(st->block_retry);
    Py_CLEAR(st->type_line);
    Py_CLEAR(st->type_value);
}

/* Write the state back to the parser (the references stay owned by st as well). */
static int
state_store(PyObject *self, State *st)
{
    if (pset_ssize(self, P_POS, st->pos) < 0 || pset_ssize(self, P_LINENO, st->lineno) < 0 ||
        pset_ssize(self, P_BLOCK_OFF, st->block_off) < 0 ||
        pset_ssize(self, P_BLOCK_LINE, st->block_line) < 0) {
        return -1;
    }
    pset(self, P_TYPE, Py_NewRef(st->etype));
    pset(self, P_ID_BUF, Py_NewRef(st->id_buf));
    pset(self, P_LAST_ID, Py_NewRef(st->committed));
    pset(self, P_BLOCK_RETRY, Py_NewRef(st->block_retry));
    pset(self, P_TYPE_LINE, Py_NewRef(st->type_line));
    pset(self, P_TYPE_VALUE, Py_NewRef(st->type_value));
    return 0;
}

/* Call a Python method of the parser that raises (a limit error); returns NULL. */
static PyObject *
call_raising(PyObject *self, PyObject *name, PyObject *arg1, PyObject *arg2)
{
    PyObject *r;
    if (arg1 == NULL) {
        r = PyObject_CallMethodNoArgs(self, name);
    }
    else {
        r = PyObject_CallMethodObjArgs(self, name, arg1, arg2, NULL);
    }
    if (r != NULL) { /* the reference did not raise: that would be a bug here */
        Py_DECREF(r);
        PyErr_SetString(PyExc_SystemError, "streamkit._speedups: expected a limit error");
    }
    return NULL;
}

static PyObject *
call_raising_at(PyObject *self, PyObject *name, Py_ssize_t a, Py_ssize_t b, int two)
{
    PyObject *x = PyLong_FromSsize_t(a);
    PyObject *y = two ? PyLong_FromSsize_t(b) : NULL;
    if (x == NULL || (two && y == NULL)) {
        Py_XDECREF(x);
        Py_XDECREF(y);
        return NULL;
    }
    call_raising(self, name, x, y);
    Py_DECREF(x);
    Py_XDECREF(y);
    return NULL;
}

/* _check_open: raise through the reference when the open line or block is over a limit. */
static inline int
open_over_limit(const State *st, Py_ssize_t tail_len)
{
    Py_ssize_t start = st->block_off >= 0 ? st->block_off : st->pos;
    return tail_len > st->max_line || st->pos + tail_len - start > st->max_event;
}

/* Empty a list and keep its storage for the next block's lines (what `del parts[:]`
 * does, without freeing and reallocating the item array at every event). */
static inline void
clear_keeping_room(PyObject *list)
{
    Py_ssize_t n = PyList_GET_SIZE(list);
    PyObject **items = ((PyListObject *)list)->ob_item;
    Py_SET_SIZE(list, 0);
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_DECREF(items[i]);
    }
}

static PyObject *
new_event(State *st)
{
    Py_ssize_t n = PyList_GET_SIZE(st->parts);
    PyObject *data;
    if (n == 1) {
        data = Py_NewRef(PyList_GET_ITEM(st->parts, 0));
    }
    else {
        data = PyUnicode_Join(str_lf, st->parts);
        if (data == NULL) {
            return NULL;
        }
    }
    PyObject *offset = PyLong_FromSsize_t(st->block_off);
    PyObject *line = PyLong_FromSsize_t(st->block_line);
    PyObject *ev = (offset && line) ? event_type->tp_alloc(event_type, 0) : NULL;
    if (ev == NULL) {
        Py_DECREF(data);
        Py_XDECREF(offset);
        Py_XDECREF(line);
        return NULL;
    }
    PyObject *etype = PyUnicode_GET_LENGTH(st->etype) ? st->etype : str_message;
    SLOT(ev, eoff[E_EVENT]) = Py_NewRef(etype);
    SLOT(ev, eoff[E_DATA]) = data;
    SLOT(ev, eoff[E_ID]) = Py_NewRef(st->id_buf);
    SLOT(ev, eoff[E_RETRY]) = Py_NewRef(st->block_retry);
    SLOT(ev, eoff[E_OFFSET]) = offset;
    SLOT(ev, eoff[E_LINE]) = line;
    return ev;
}

/* Process the complete lines of buf[0:size] (every line end `sep` of sep_len bytes) and
 * keep the rest as the tail. */
static PyObject *
feed_lines(PyObject *self, State *st, const char *buf, Py_ssize_t size, int sep_len)
{
    PyObject *out = PyList_New(0);
    if (out == NULL) {
        return NULL;
    }
    const char sep = sep_len == 2 ? '\r' : '\n';
    const char *p = buf, *end = buf + size;
    for (;;) {
        const char *e = memchr(p, sep, end - p);
        if (e == NULL) {
            break;
        }
        Py_ssize_t n = e - p;
        if (n > st->max_line) {
            if (state_store(self, st) < 0) {
                goto fail;
            }
            call_raising_at(self, str_fail_line, st->pos, st->lineno, 1);
            goto fail;
        }
        if (n) {
            if (st->block_off < 0) {
                st->block_off = st->pos;
                st->block_line = st->lineno;
            }
            char first = p[0];
            if (first == 'd' && n >= 6 && memcmp(p, "data: ", 6) == 0) {
                PyObject *v = PyUnicode_DecodeUTF8(p + 6, n - 6, "replace");
                if (v == NULL) {
                    goto fail;
                }
                int r = PyList_Append(st->parts, v);
                Py_DECREF(v);
                if (r < 0) {
                    goto fail;
                }
            }
            else if (first == 'e' && n >= 7 && memcmp(p, "event: ", 7) == 0) {
                if (PyBytes_GET_SIZE(st->type_line) != n ||
                    memcmp(PyBytes_AS_STRING(st->type_line), p, n) != 0) {
                    PyObject *tl = PyBytes_FromStringAndSize(p, n);
                    if (tl == NULL) {
                        goto fail;
                    }
                    PyObject *tv = PyUnicode_DecodeUTF8(p + 7, n - 7, "replace");
                    if (tv == NULL) {
                        Py_DECREF(tl);
                        goto fail;
                    }
                    Py_SETREF(st->type_line, tl);
                    Py_SETREF(st->type_value, tv);
                }
                Py_SETREF(st->etype, Py_NewRef(st->type_value));
            }
            else if (first == 'i' && n >= 4 && memcmp(p, "id: ", 4) == 0) {
                if (memchr(p + 4, 0, n - 4) == NULL) {
                    PyObject *v = PyUnicode_DecodeUTF8(p + 4, n - 4, "replace");
                    if (v == NULL) {
                        goto fail;
                    }
                    Py_SETREF(st->id_buf, v);
                }
            }
            else if (first != ':') { /* a comment is ignored; anything else: _field */
                pset(self, P_TYPE, Py_NewRef(st->etype));
                pset(self, P_ID_BUF, Py_NewRef(st->id_buf));
                pset(self, P_BLOCK_RETRY, Py_NewRef(st->block_retry));
                Py_INCREF(st->parts);
                pset(self, P_DATA, st->parts);
                PyObject *line = PyBytes_FromStringAndSize(p, n);
                PyObject *off = PyLong_FromSsize_t(st->pos);
                PyObject *no = PyLong_FromSsize_t(st->lineno);
                PyObject *r = NULL;
                if (line && off && no) {
                    r = PyObject_CallMethodObjArgs(self, str_field, line, off, no, NULL);
                }
                Py_XDECREF(line);
                Py_XDECREF(off);
                Py_XDECREF(no);
                if (r == NULL) {
                    goto fail;
                }
                Py_DECREF(r);
                PyObject *t = PGET(self, P_TYPE), *i = PGET(self, P_ID_BUF);
                PyObject *b = PGET(self, P_BLOCK_RETRY), *d = PGET(self, P_DATA);
                if (t == NULL || !PyUnicode_CheckExact(t) || i == NULL || b == NULL ||
                    d != st->parts) {
                    PyErr_SetString(PyExc_SystemError,
                                    "streamkit._speedups: SSEParser._field changed its state");
                    goto fail;
                }
                Py_SETREF(st->etype, Py_NewRef(t));
                Py_SETREF(st->id_buf, Py_NewRef(i));
                Py_SETREF(st->block_retry, Py_NewRef(b));
            }
        }
        else if (st->block_off >= 0) { /* a blank line ending a block */
            if (st->pos - st->block_off > st->max_event) {
                Py_SETREF(st->committed, Py_NewRef(st->id_buf)); /* as the standard says */
                if (state_store(self, st) < 0) {
                    goto fail;
                }
                call_raising_at(self, str_fail_event, st->pos, 0, 0);
                goto fail;
            }
            if (PyList_GET_SIZE(st->parts)) {
                PyObject *ev = new_event(st);
                if (ev == NULL) {
                    goto fail;
                }
                int r = PyList_Append(out, ev);
                Py_DECREF(ev);
                if (r < 0) {
                    goto fail;
                }
                clear_keeping_room(st->parts);
            }
            Py_SETREF(st->committed, Py_NewRef(st->id_buf));
            Py_SETREF(st->etype, Py_NewRef(str_empty));
            Py_SETREF(st->block_retry, Py_NewRef(Py_None));
            st->block_off = -1;
        }
        st->pos += n + sep_len;
        st->lineno += 1;
        p = e + sep_len;
    }
    if (state_store(self, st) < 0) {
        goto fail;
    }
    Py_ssize_t tail_len = end - p;
    PyObject *tail = PyList_New(tail_len ? 1 : 0);
    if (tail == NULL) {
        goto fail;
    }
    if (tail_len) {
        PyObject *t = PyBytes_FromStringAndSize(p, tail_len);
        if (t == NULL) {
            Py_DECREF(tail);
            goto fail;
        }
        PyList_SET_ITEM(tail, 0, t);
    }
    pset(self, P_TAIL, tail);
    if (pset_ssize(self, P_TAIL_LEN, tail_len) < 0) {
        goto fail;
    }
    if (open_over_limit(st, tail_len)) {
        call_raising(self, str_check_open, NULL, NULL);
        goto fail;
    }
    return out;
fail:
    Py_DECREF(out);
    return NULL;
}

/* Whether every CR in data is followed by LF and every LF preceded by CR. */
static int
crlf_only(const char *s, Py_ssize_t n)
{
    Py_ssize_t crs = 0, lfs = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (s[i] == '\r') {
            if (i + 1 >= n || s[i + 1] != '\n') {
                return 0;
            }
            crs++;
        }
        else if (s[i] == '\n') {
            lfs++;
        }
    }
    return crs == lfs;
}

static PyObject *
fallback(PyObject *self, PyObject *data)
{
    return PyObject_CallFunctionObjArgs(python_feed, self, data, NULL);
}

static PyObject *
feed(PyObject *self, PyObject *data)
{
    if (!PyBytes_CheckExact(data) || PGET(self, P_ERROR) != Py_None ||
        PGET(self, P_CLOSED) != Py_False || PGET(self, P_DIAG) != Py_False ||
        PGET(self, P_STARTED) != Py_True || PGET(self, P_SKIP_LF) != Py_False) {
        return fallback(self, data);
    }
    State st = {0};
    Py_ssize_t tail_len;
    PyObject *tail = PGET(self, P_TAIL), *parts = PGET(self, P_DATA);
    PyObject *etype = PGET(self, P_TYPE), *type_line = PGET(self, P_TYPE_LINE);
    PyObject *type_value = PGET(self, P_TYPE_VALUE), *id_buf = PGET(self, P_ID_BUF);
    PyObject *committed = PGET(self, P_LAST_ID), *block_retry = PGET(self, P_BLOCK_RETRY);
    Py_ssize_t size = PyBytes_GET_SIZE(data);
    if (size == 0 || tail == NULL || !PyList_CheckExact(tail) || parts == NULL ||
        !PyList_CheckExact(parts) || etype == NULL || !PyUnicode_CheckExact(etype) ||
        type_line == NULL || !PyBytes_CheckExact(type_line) || type_value == NULL ||
        !PyUnicode_CheckExact(type_value) || id_buf == NULL || committed == NULL ||
        block_retry == NULL || pget_ssize(self, P_TAIL_LEN, &tail_len) < 0 ||
        pget_ssize(self, P_POS, &st.pos) < 0 || pget_ssize(self, P_LINENO, &st.lineno) < 0 ||
        pget_ssize(self, P_BLOCK_OFF, &st.block_off) < 0 ||
        pget_ssize(self, P_BLOCK_LINE, &st.block_line) < 0 ||
        pget_ssize(self, P_MAX_LINE, &st.max_line) < 0 ||
        pget_ssize(self, P_MAX_EVENT, &st.max_event) < 0) {
        return fallback(self, data);
    }
    const char *s = PyBytes_AS_STRING(data);
    int sep_len = 1;
    if (memchr(s, '\r', size) != NULL) {
        if (!crlf_only(s, size)) {
            return fallback(self, data); /* CR line ends: the general path */
        }
        sep_len = 2;
    }
    else if (memchr(s, '\n', size) == NULL) { /* no line end: the line goes on */
        if (PyList_Append(tail, data) < 0) {
            return NULL;
        }
        tail_len += size;
        if (pset_ssize(self, P_TAIL_LEN, tail_len) < 0) {
            return NULL;
        }
        if (open_over_limit(&st, tail_len)) {
            return call_raising(self, str_check_open, NULL, NULL);
        }
        return PyList_New(0);
    }
    PyObject *buf;
    Py_ssize_t pieces = PyList_GET_SIZE(tail);
    if (pieces) {
        Py_ssize_t total = size;
        for (Py_ssize_t i = 0; i < pieces; i++) {
            PyObject *piece = PyList_GET_ITEM(tail, i);
            if (!PyBytes_CheckExact(piece)) {
                return fallback(self, data); /* a bytearray fed earlier */
            }
            total += PyBytes_GET_SIZE(piece);
        }
        buf = PyBytes_FromStringAndSize(NULL, total);
        if (buf == NULL) {
            return NULL;
        }
        char *w = PyBytes_AS_STRING(buf);
        for (Py_ssize_t i = 0; i < pieces; i++) {
            PyObject *piece = PyList_GET_ITEM(tail, i);
            memcpy(w, PyBytes_AS_STRING(piece), PyBytes_GET_SIZE(piece));
            w += PyBytes_GET_SIZE(piece);
        }
        memcpy(w, s, size);
        PyObject *empty = PyList_New(0);
        if (empty == NULL) {
            Py_DECREF(buf);
            return NULL;
        }
        pset(self, P_TAIL, empty);
        if (pset_ssize(self, P_TAIL_LEN, 0) < 0) {
            Py_DECREF(buf);
            return NULL;
        }
    }
    else {
        buf = Py_NewRef(data);
    }
    st.parts = parts;
    Py_INCREF(parts);
    st.etype = Py_NewRef(etype);
    st.id_buf = Py_NewRef(id_buf);
    st.committed = Py_NewRef(committed);
    st.block_retry = Py_NewRef(block_retry);
    st.type_line = Py_NewRef(type_line);
    st.type_value = Py_NewRef(type_value);
    PyObject *out = feed_lines(self, &st, PyBytes_AS_STRING(buf), PyBytes_GET_SIZE(buf), sep_len);
    state_clear(&st);
    Py_DECREF(parts);
    Py_DECREF(buf);
    return out;
}

static PyMethodDef feed_def = {
    "feed", (PyCFunction)feed, METH_O,
    "feed($self, data, /)\n--\n\nConsume the next bytes of the stream; return the events they "
    "complete.",
};

/* -- install ------------------------------------------------------------------------- */

static int
slot_offset(PyTypeObject *tp, const char *name, Py_ssize_t *out)
{
    PyObject *d = PyDict_GetItemString(tp->tp_dict, name); /* borrowed */
    if (d == NULL || !Py_IS_TYPE(d, &PyMemberDescr_Type) ||
        ((PyDescrObject *)d)->d_type != tp ||
        ((PyMemberDescrObject *)d)->d_member->type != T_OBJECT_EX ||
        (((PyMemberDescrObject *)d)->d_member->flags & READONLY)) {
        PyErr_Format(PyExc_TypeError, "%s.%s is not a plain object slot", tp->tp_name, name);
        return -1;
    }
    *out = ((PyMemberDescrObject *)d)->d_member->offset;
    return 0;
}

static PyObject *
install(PyObject *module, PyObject *args)
{
    PyObject *ptype, *etype, *pfeed;
    if (!PyArg_ParseTuple(args, "O!O!O:install", &PyType_Type, &ptype, &PyType_Type, &etype,
                          &pfeed)) {
        return NULL;
    }
    PyTypeObject *pt = (PyTypeObject *)ptype, *et = (PyTypeObject *)etype;
    Py_ssize_t new_poff[P_COUNT], new_eoff[E_COUNT]; /* committed only when all match */
    for (int i = 0; i < P_COUNT; i++) {
        if (slot_offset(pt, parser_slots[i], &new_poff[i]) < 0) {
            return NULL;
        }
    }
    for (int i = 0; i < E_COUNT; i++) {
        if (slot_offset(et, event_slots[i], &new_eoff[i]) < 0) {
            return NULL;
        }
    }
    /* The six slots must be all the event's instance storage: no dict, no weakref list. */
    if (et->tp_itemsize != 0 || et->tp_dictoffset != 0 || et->tp_weaklistoffset != 0 ||
        et->tp_basicsize != (Py_ssize_t)(sizeof(PyObject) + E_COUNT * sizeof(PyObject *)) ||
        et->tp_base != &PyBaseObject_Type) {
        PyErr_Format(PyExc_TypeError, "%s has not the layout of six object slots",
                     et->tp_name);
        return NULL;
    }
    PyObject *method = PyDescr_NewMethod(pt, &feed_def);
    if (method == NULL) {
        return NULL;
    }
    memcpy(poff, new_poff, sizeof(poff));
    memcpy(eoff, new_eoff, sizeof(eoff));
    Py_XSETREF(parser_type, (PyTypeObject *)Py_NewRef(ptype));
    Py_XSETREF(event_type, (PyTypeObject *)Py_NewRef(etype));
    Py_XSETREF(python_feed, Py_NewRef(pfeed));
    return method;
}

/* -- the text-delta hot path: decoding and folding ----------------------------------- *
 *
 * install_decode(classes, python_decode, loads, absent) and install_fold(classes) check
 * the layout of the classes below (every field a plain object slot, found through the MRO; no instance
 * dict; the generic setattr, so a slot store is what `obj.field = value` does; for a class
 * built here, no slot beyond the known ones) and return the compiled decode and the
 * TextFolder type; a TypeError when anything differs (the caller stays pure Python).
 *
 * decode(sse, *, tolerant=False) recognises a `thread.message.delta` whose data is, after
 * orjson.loads, exactly {"id": str, "object": str|null?, "delta": {"content": [{"index":
 * int, "type": "text", "text": {"value": str}}], "role": null?}} (no other key, no
 * annotations) and builds what the generated Python decoders build for it: the same
 * classes, the same field values. Data in the exact compact shape is read without orjson,
 * its models holding the explicit record of absent keys (`absent`, from the reference
 * decoder) with `_extra` None; otherwise `_absent` is the input dict, `_extra` left unset,
 * as the Python decoders leave them (Model reads both forms alike). Anything else, and
 * any error, goes to python_decode(sse, tolerant=tolerant), the reference.
 *
 * folder(state, python_fold) is the callable the fold routes ThreadMessageDelta to when
 * it enables the fast path (State.use_speedups). For a decoded plain text delta (one text
 * part, a non-empty value, no annotations, no role, no warning) whose message has a
 * TextTail in state.text_tails (the fold's own offer: see _merge.TextTail) that still
 * holds (same index, message in progress, part.text the offered Text, its value a chunk
 * list), it does what the fold promises for it: append the value, count the delta, make
 * the message current, return [ContentPartDelta, MessageDeltaApplied]. Anything else is
 * python_fold(event).
 */

enum {
    /* decoded (install_decode): a text delta, then a function-arguments delta */
    C_EVENT, C_PAYLOAD, C_DELTA, C_BLOCK, C_TDELTA,
    C_SEVENT, C_SPAYLOAD, C_SDELTA, C_SDETAILS, C_FDELTA, C_FFUNC,
    /* folded (install_fold): the text path, then the function-arguments path */
    C_TAIL, C_TRACK, C_MESSAGE, C_PART, C_TEXT, C_CPD, C_MDA,
    C_CTAIL, C_STRACK, C_STEP, C_FCALL, C_TCD, C_SDA,
    C_COUNT
};
static PyTypeObject *cls[C_COUNT];
static const char *const cls_names[C_COUNT] = {
    "ThreadMessageDelta", "MessageDeltaEvent", "MessageDelta", "TextDeltaBlock", "TextDelta",
    "ThreadRunStepDelta", "RunStepDeltaEvent", "RunStepDelta", "ToolCallDeltaObject",
    "FunctionToolCallDelta", "FunctionToolCallFunction",
    "TextTail", "MessageTrack", "Message", "TextContentBlock", "Text", "ContentPartDelta",
    "MessageDeltaApplied",
    "CallTail", "StepTrack", "RunStep", "FunctionToolCall", "ToolCallDelta", "StepDeltaApplied",
};

/* The slots used, per class. */
enum { EV_DATA, EV_SSE, EV_WARNING, EV_N };
enum { PL_ID, PL_OBJECT, PL_DELTA, PL_ABSENT, PL_EXTRA, PL_N };
enum { DL_CONTENT, DL_ROLE, DL_ABSENT, DL_EXTRA, DL_N };
enum { BL_INDEX, BL_TYPE, BL_TEXT, BL_ABSENT, BL_EXTRA, BL_N };
enum { TD_VALUE, TD_ANNOTATIONS, TD_ABSENT, TD_EXTRA, TD_N };
enum { SD_DETAILS, SD_ABSENT, SD_EXTRA, SD_N };
enum { DT_TYPE, DT_CALLS, DT_ABSENT, DT_EXTRA, DT_N };
enum { FD_INDEX, FD_TYPE, FD_ID, FD_FUNCTION, FD_ABSENT, FD_EXTRA, FD_N };
enum { FF_NAME, FF_ARGUMENTS, FF_OUTPUT, FF_ABSENT, FF_EXTRA, FF_N };
enum { TT_MESSAGE, TT_TRACK, TT_INDEX, TT_PART, TT_TEXT, TT_N };
enum { TR_DELTAS, TR_N };
enum { MS_STATUS, MS_N };
enum { PT_TYPE, PT_TEXT, PT_N };
enum { TX_VALUE, TX_N };
enum { CP_EVENT, CP_MESSAGE, CP_INDEX, CP_PART, CP_DELTA, CP_KIND, CP_TEXT, CP_N };
enum { MA_EVENT, MA_MESSAGE, MA_DELTA, MA_N };
enum { CT_STEP, CT_DETAILS, CT_TRACK, CT_INDEX, CT_CALL, CT_FUNCTION, CT_N };
enum { ST_STATUS, ST_DETAILS, ST_N };
enum { FC_TYPE, FC_FUNCTION, FC_N };
enum { TC_EVENT, TC_STEP, TC_INDEX, TC_CALL, TC_DELTA, TC_KIND, TC_TEXT, TC_N };
enum { SA_EVENT, SA_STEP, SA_DELTA, SA_N };

static const char *const ev_slots[] = {"data", "sse", "warning", NULL};
static const char *const pl_slots[] = {"id", "object", "delta", "_absent", "_extra", NULL};
static const char *const dl_slots[] = {"content", "role", "_absent", "_extra", NULL};
static const char *const bl_slots[] = {"index", "type", "text", "_absent", "_extra", NULL};
static const char *const td_slots[] = {"_value", "annotations", "_absent", "_extra", NULL};
static const char *const sd_slots[] = {"step_details", "_absent", "_extra", NULL};
static const char *const dt_slots[] = {"type", "tool_calls", "_absent", "_extra", NULL};
static const char *const fd_slots[] = {"index", "type", "id", "function", "_absent", "_extra",
                                       NULL};
static const char *const ff_slots[] = {"name", "_arguments", "output", "_absent", "_extra",
                                       NULL};
static const char *const tt_slots[] = {"message", "track", "index", "part", "text", NULL};
static const char *const tr_slots[] = {"deltas", NULL};
static const char *const ms_slots[] = {"status", NULL};
static const char *const pt_slots[] = {"type", "text", NULL};
static const char *const tx_slots[] = {"_value", NULL};
static const char *const cp_slots[] = {"event", "message", "index", "part", "delta", "kind",
                                       "text", NULL};
static const char *const ma_slots[] = {"event", "message", "delta", NULL};
static const char *const ct_slots[] = {"step",  "details",  "track", "index",
                                       "call", "function", NULL};
static const char *const st_slots[] = {"status", "step_details", NULL};
static const char *const fc_slots[] = {"type", "function", NULL};
static const char *const tc_slots[] = {"event", "step", "index", "tool_call", "delta", "kind",
                                       "text", NULL};
static const char *const sa_slots[] = {"event", "step", "delta", NULL};
static const char *const *const slot_names[C_COUNT] = {
    ev_slots, pl_slots, dl_slots, bl_slots, td_slots,
    ev_slots, pl_slots, sd_slots, dt_slots, fd_slots, ff_slots,
    tt_slots, tr_slots, ms_slots, pt_slots, tx_slots, cp_slots, ma_slots,
    ct_slots, tr_slots, st_slots, fc_slots, tc_slots, sa_slots,
};
/* The number of fields each class must have in all (its whole instance storage): the
 * classes that are allocated here must have no slot this code does not know of. */
static const int all_slots[C_COUNT] = {
    3, 5, 4, 5, 4,
    3, 5, 3, 4, 6, 5,
    -1, -1, -1, -1, -1, 7, 3,
    -1, -1, -1, -1, 7, 3,
};
static Py_ssize_t off[C_COUNT][8];

static PyObject *py_decode, *py_loads, *str_tolerant, *str_current_message, *str_text_tails;
static PyObject *str_msg_delta, *str_in_progress, *str_text_key, *str_value_key;
static PyObject *str_id_key, *str_object_key, *str_delta_key, *str_content_key, *str_role_key;
static PyObject *str_index_key, *str_type_key, *str_annotations_key;
static PyObject *str_step_delta, *str_function, *str_tool_calls, *str_current_step;
static PyObject *str_call_tails;

#define FIELD(obj, c, f) SLOT(obj, off[c][f])

/* The offset of `name`, a plain writable object slot found through tp's MRO. */
static int
member_offset(PyTypeObject *tp, const char *name, Py_ssize_t *out)
{
    PyObject *key = PyUnicode_InternFromString(name);
    if (key == NULL) {
        return -1;
    }
    PyObject *d = _PyType_Lookup(tp, key); /* borrowed */
    Py_DECREF(key);
    if (d == NULL || !Py_IS_TYPE(d, &PyMemberDescr_Type) ||
        ((PyMemberDescrObject *)d)->d_member->type != T_OBJECT_EX ||
        (((PyMemberDescrObject *)d)->d_member->flags & READONLY)) {
        PyErr_Format(PyExc_TypeError, "%s.%s is not a plain object slot", tp->tp_name, name);
        return -1;
    }
    *out = ((PyMemberDescrObject *)d)->d_member->offset;
    return 0;
}

/* A new instance of class c with every slot empty (what object.__new__ gives). */
static inline PyObject *
alloc(int c)
{
    return cls[c]->tp_alloc(cls[c], 0);
}

/* -- decode -- */

/* An optional key read as None when absent: a borrowed reference or NULL for absent. */
static inline PyObject *
get_opt(PyObject *d, PyObject *key)
{
    return PyDict_GetItemWithError(d, key); /* borrowed; the caller checks PyErr_Occurred */
}

/* Build the event from the loaded payload; NULL (no error set) when it is not the plain
 * shape, NULL with an error set on a real failure (memory). */
static PyObject *
build_text_delta(PyObject *sse, PyObject *d)
{
    if (!PyDict_CheckExact(d)) {
        return NULL;
    }
    /* MessageDeltaEvent: id (required str), object (str or null, optional), delta. */
    PyObject *id = get_opt(d, str_id_key);
    PyObject *object = id ? get_opt(d, str_object_key) : NULL;
    PyObject *delta = id ? get_opt(d, str_delta_key) : NULL;
    if (PyErr_Occurred() || id == NULL || !PyUnicode_CheckExact(id) || delta == NULL ||
        !PyDict_CheckExact(delta)) {
        return NULL;
    }
    Py_ssize_t n = 3;
    if (object == NULL || object == Py_None) {
        n--;
    }
    else if (!PyUnicode_CheckExact(object)) {
        return NULL;
    }
    if (PyDict_GET_SIZE(d) != n) {
        return NULL;
    }
    /* MessageDelta: content (a list of one text part), role (null or absent). */
    PyObject *content = get_opt(delta, str_content_key);
    PyObject *role = content ? get_opt(delta, str_role_key) : NULL;
    if (PyErr_Occurred() || content == NULL || !PyList_CheckExact(content) ||
        PyList_GET_SIZE(content) != 1 || (role != NULL && role != Py_None) ||
        PyDict_GET_SIZE(delta) != (role == NULL ? 1 : 2)) {
        return NULL;
    }
    PyObject *item = PyList_GET_ITEM(content, 0);
    if (!PyDict_CheckExact(item)) {
        return NULL;
    }
    /* TextDeltaBlock (tagged "text"): index (0 .. 2**31 - 1), type, text. */
    PyObject *type = get_opt(item, str_type_key);
    PyObject *index = type ? get_opt(item, str_index_key) : NULL;
    PyObject *text = index ? get_opt(item, str_text_key) : NULL;
    if (PyErr_Occurred() || type == NULL || !PyUnicode_CheckExact(type) ||
        PyUnicode_Compare(type, str_text_key) != 0 || index == NULL ||
        !PyLong_CheckExact(index) || text == NULL || !PyDict_CheckExact(text) ||
        PyDict_GET_SIZE(item) != 3) {
        PyErr_Clear(); /* PyUnicode_Compare cannot fail on two str, but be sure */
        return NULL;
    }
    int overflow = 0;
    long long ix = PyLong_AsLongLongAndOverflow(index, &overflow);
    if (overflow || ix < 0 || ix > 0x7fffffffLL) {
        PyErr_Clear();
        return NULL;
    }
    /* TextDelta: value (str), annotations (null or absent). */
    PyObject *value = get_opt(text, str_value_key);
    PyObject *annotations = value ? get_opt(text, str_annotations_key) : NULL;
    if (PyErr_Occurred() || value == NULL || !PyUnicode_CheckExact(value) ||
        (annotations != NULL && annotations != Py_None) ||
        PyDict_GET_SIZE(text) != (annotations == NULL ? 1 : 2)) {
        return NULL;
    }
    /* Build, innermost first. */
    PyObject *td = alloc(C_TDELTA);
    if (td == NULL) {
        return NULL;
    }
    FIELD(td, C_TDELTA, TD_VALUE) = Py_NewRef(value);
    FIELD(td, C_TDELTA, TD_ANNOTATIONS) = Py_NewRef(Py_None);
    FIELD(td, C_TDELTA, TD_ABSENT) = Py_NewRef(text);
    PyObject *bl = alloc(C_BLOCK);
    if (bl == NULL) {
        Py_DECREF(td);
        return NULL;
    }
    FIELD(bl, C_BLOCK, BL_INDEX) = Py_NewRef(index);
    FIELD(bl, C_BLOCK, BL_TYPE) = Py_NewRef(type);
    FIELD(bl, C_BLOCK, BL_TEXT) = td;
    FIELD(bl, C_BLOCK, BL_ABSENT) = Py_NewRef(item);
    PyObject *items = PyList_New(1);
    if (items == NULL) {
        Py_DECREF(bl);
        return NULL;
    }
    PyList_SET_ITEM(items, 0, bl);
    PyObject *dl = alloc(C_DELTA);
    if (dl == NULL) {
        Py_DECREF(items);
        return NULL;
    }
    FIELD(dl, C_DELTA, DL_CONTENT) = items;
    FIELD(dl, C_DELTA, DL_ROLE) = Py_NewRef(Py_None);
    FIELD(dl, C_DELTA, DL_ABSENT) = Py_NewRef(delta);
    PyObject *pl = alloc(C_PAYLOAD);
    if (pl == NULL) {
        Py_DECREF(dl);
        return NULL;
    }
    FIELD(pl, C_PAYLOAD, PL_ID) = Py_NewRef(id);
    FIELD(pl, C_PAYLOAD, PL_OBJECT) = Py_NewRef(object ? object : Py_None);
    FIELD(pl, C_PAYLOAD, PL_DELTA) = dl;
    FIELD(pl, C_PAYLOAD, PL_ABSENT) = Py_NewRef(d);
    PyObject *ev = alloc(C_EVENT);
    if (ev == NULL) {
        Py_DECREF(pl);
        return NULL;
    }
    FIELD(ev, C_EVENT, EV_DATA) = pl;
    FIELD(ev, C_EVENT, EV_SSE) = Py_NewRef(sse);
    FIELD(ev, C_EVENT, EV_WARNING) = Py_NewRef(Py_None);
    return ev;
}

/* The explicit records (`_absent`: the JSON names of the known fields that are absent;
 * `_extra`: None, no unknown key) of the four models of the scanned shape, as the Python
 * models hold them once materialized (computed by events.py from the reference decoder). */
/* MessageDeltaEvent, MessageDelta, TextDeltaBlock, TextDelta; RunStepDeltaEvent,
 * RunStepDelta, ToolCallDeltaObject, FunctionToolCallDelta, FunctionToolCallFunction. */
enum { AB_PL, AB_DL, AB_BL, AB_TD, AB_SPL, AB_SDL, AB_DT, AB_FD, AB_FF, AB_COUNT };
static PyObject *scan_absent[AB_COUNT];
/* The id and object strings of the last scanned delta of each shape: reused while they
 * repeat. */
static PyObject *last_id, *last_object, *last_step_id, *last_step_object;

/* Where the parts of a scanned plain text delta are, in characters of the data. */
typedef struct {
    Py_ssize_t id, id_end, object, object_end, value, value_end;
    long index;
} Scan;

#if defined(__GNUC__)
#define ALWAYS_INLINE __attribute__((always_inline)) inline
#else
#define ALWAYS_INLINE inline
#endif

/* The fixed text of a delta shape around its id, object, index and value. */
typedef struct {
    const char *mid, *type, *end; /* after the object; after the index; after the value */
    Py_ssize_t mid_len, type_len, end_len;
} Shape;

/* {"id":"...","object":"...","delta":{"content":[{"index":N,"type":"text","text":
 * {"value":"..."}}]}} */
static const Shape TEXT_SHAPE = {
    .mid = ",\"delta\":{\"content\":[{\"index\":",
    .mid_len = sizeof(",\"delta\":{\"content\":[{\"index\":") - 1,
    .type = ",\"type\":\"text\",\"text\":{\"value\":\"",
    .type_len = sizeof(",\"type\":\"text\",\"text\":{\"value\":\"") - 1,
    .end = "}}]}}",
    .end_len = sizeof("}}]}}") - 1,
};
/* {"id":"...","object":"...","delta":{"step_details":{"type":"tool_calls","tool_calls":
 * [{"index":N,"type":"function","function":{"arguments":"..."}}]}}} */
static const Shape ARGS_SHAPE = {
    .mid = ",\"delta\":{\"step_details\":{\"type\":\"tool_calls\",\"tool_calls\":[{\"index\":",
    .mid_len =
        sizeof(",\"delta\":{\"step_details\":{\"type\":\"tool_calls\",\"tool_calls\":[{\"index\":") -
        1,
    .type = ",\"type\":\"function\",\"function\":{\"arguments\":\"",
    .type_len = sizeof(",\"type\":\"function\",\"function\":{\"arguments\":\"") - 1,
    .end = "}}]}}}",
    .end_len = sizeof("}}]}}}") - 1,
};

/* Scan data (`n` characters of `kind` at `buf`) for the exact shape
 * {"id":"...","object":"..."<mid>N<type>..."<end> (TEXT_SHAPE, ARGS_SHAPE): no
 * whitespace, strings without escapes or control characters (the id and the object ASCII,
 * the value any characters but surrogates, which orjson refuses), N a decimal
 * 0 .. 2**31-1 without leading zeros. 1 and `out` filled when it is, else 0. Specialised
 * for each kind by the compiler (kind is a constant at each call). */
static ALWAYS_INLINE int
scan_shape(const void *buf, Py_ssize_t n, const int kind, const Shape *shape, Scan *out)
{
    Py_ssize_t i = 0;
#define AT(k) PyUnicode_READ(kind, buf, (k))
#define LITERAL(lit, len)                                                                \
    do {                                                                                 \
        const char *lit_ = (lit);                                                        \
        Py_ssize_t len_ = (len);                                                         \
        if (n - i < len_) {                                                              \
            return 0;                                                                    \
        }                                                                                \
        if (kind == PyUnicode_1BYTE_KIND) {                                              \
            if (memcmp((const char *)buf + i, lit_, (size_t)len_) != 0) {                \
                return 0;                                                                \
            }                                                                            \
        }                                                                                \
        else {                                                                           \
            for (Py_ssize_t j_ = 0; j_ < len_; j_++) {                                   \
                if (AT(i + j_) != (Py_UCS4)(unsigned char)lit_[j_]) {                    \
                    return 0;                                                            \
                }                                                                        \
            }                                                                            \
        }                                                                                \
        i += len_;                                                                       \
    } while (0)
/* A plain string from i to its end quote (left at i); `ascii`: its characters < 0x80. */
#define PLAIN(ascii)                                                                     \
    do {                                                                                 \
        for (;; i++) {                                                                   \
            if (i >= n) {                                                                \
                return 0;                                                                \
            }                                                                            \
            Py_UCS4 ch_ = AT(i);                                                         \
            if (ch_ == '"') {                                                            \
                break;                                                                   \
            }                                                                            \
            if (ch_ == '\\' || ch_ < 0x20 || ((ascii) && ch_ >= 0x80) ||                 \
                (ch_ >= 0xD800 && ch_ <= 0xDFFF)) {                                      \
                return 0;                                                                \
            }                                                                            \
        }                                                                                \
    } while (0)
    LITERAL("{\"id\":\"", 7);
    out->id = i;
    PLAIN(1);
    out->id_end = i++;
    LITERAL(",\"object\":\"", 11);
    out->object = i;
    PLAIN(1);
    out->object_end = i++;
    LITERAL(shape->mid, shape->mid_len);
    long index = 0;
    if (i < n && AT(i) == '0') {
        i++;
    }
    else {
        int digits = 0;
        while (i < n && AT(i) >= '0' && AT(i) <= '9') {
            if (++digits > 10) {
                return 0;
            }
            index = index * 10 + (long)(AT(i) - '0');
            i++;
        }
        if (digits == 0 || index > 0x7fffffffL) {
            return 0;
        }
    }
    out->index = index;
    LITERAL(shape->type, shape->type_len);
    out->value = i;
    PLAIN(0);
    out->value_end = i++;
    LITERAL(shape->end, shape->end_len);
#undef PLAIN
#undef LITERAL
#undef AT
    return i == n;
}

/* scan_shape for any kind of str. */
static int
scan_any(PyObject *data, const Shape *shape, Scan *at)
{
    const void *buf = PyUnicode_DATA(data);
    Py_ssize_t n = PyUnicode_GET_LENGTH(data);
    switch (PyUnicode_KIND(data)) {
    case PyUnicode_1BYTE_KIND:
        return scan_shape(buf, n, PyUnicode_1BYTE_KIND, shape, at);
    case PyUnicode_2BYTE_KIND:
        return scan_shape(buf, n, PyUnicode_2BYTE_KIND, shape, at);
    default:
        return scan_shape(buf, n, PyUnicode_4BYTE_KIND, shape, at);
    }
}

/* The ASCII str data[start:end]: `*cache` when it is equal, else a new one kept there. A
 * new reference, or NULL with an error set. */
static inline PyObject *
ascii_cached(PyObject **cache, PyObject *data, Py_ssize_t start, Py_ssize_t end)
{
    PyObject *c = *cache;
    Py_ssize_t n = end - start;
    if (c != NULL && PyUnicode_GET_LENGTH(c) == n) {
        const Py_UCS1 *have = PyUnicode_1BYTE_DATA(c);
        int kind = PyUnicode_KIND(data);
        const void *buf = PyUnicode_DATA(data);
        Py_ssize_t k = 0;
        if (kind == PyUnicode_1BYTE_KIND) {
            k = memcmp(have, (const Py_UCS1 *)buf + start, (size_t)n) == 0 ? n : 0;
        }
        else {
            while (k < n && PyUnicode_READ(kind, buf, start + k) == have[k]) {
                k++;
            }
        }
        if (k == n) {
            return Py_NewRef(c);
        }
    }
    PyObject *v = PyUnicode_Substring(data, start, end);
    if (v != NULL) {
        Py_XSETREF(*cache, Py_NewRef(v));
    }
    return v;
}

/* The event for data in the exact shape scan_shape reads, built without orjson and
 * without the input dicts: the same classes and field values the Python decoder gives,
 * each model holding the explicit record of its absent and unknown keys instead of the
 * input dict (the two forms Model reads alike: see _model.Model). NULL with no error
 * set: anything else (orjson reads it); NULL with an error set: out of memory. */
static PyObject *
scan_text_delta(PyObject *sse, PyObject *data)
{
    if (scan_absent[0] == NULL) {
        return NULL;
    }
    Scan at;
    if (!scan_any(data, &TEXT_SHAPE, &at)) {
        return NULL;
    }
    /* Build, innermost first; every failure below is out of memory. */
    PyObject *v = PyUnicode_Substring(data, at.value, at.value_end);
    PyObject *ix = v ? PyLong_FromLong(at.index) : NULL;
    PyObject *i = ix ? ascii_cached(&last_id, data, at.id, at.id_end) : NULL;
    PyObject *o = i ? ascii_cached(&last_object, data, at.object, at.object_end) : NULL;
    PyObject *items = o ? PyList_New(1) : NULL;
    PyObject *td = items ? alloc(C_TDELTA) : NULL;
    PyObject *bl = td ? alloc(C_BLOCK) : NULL;
    PyObject *dl = bl ? alloc(C_DELTA) : NULL;
    PyObject *pl = dl ? alloc(C_PAYLOAD) : NULL;
    PyObject *ev = pl ? alloc(C_EVENT) : NULL;
    if (ev == NULL) {
        Py_XDECREF(v);
        Py_XDECREF(ix);
        Py_XDECREF(i);
        Py_XDECREF(o);
        Py_XDECREF(items);
        Py_XDECREF(td);
        Py_XDECREF(bl);
        Py_XDECREF(dl);
        Py_XDECREF(pl);
        return NULL;
    }
    FIELD(td, C_TDELTA, TD_VALUE) = v;
    FIELD(td, C_TDELTA, TD_ANNOTATIONS) = Py_NewRef(Py_None);
    FIELD(td, C_TDELTA, TD_ABSENT) = Py_NewRef(scan_absent[AB_TD]);
    FIELD(td, C_TDELTA, TD_EXTRA) = Py_NewRef(Py_None);
    FIELD(bl, C_BLOCK, BL_INDEX) = ix;
    FIELD(bl, C_BLOCK, BL_TYPE) = Py_NewRef(str_text_key);
    FIELD(bl, C_BLOCK, BL_TEXT) = td;
    FIELD(bl, C_BLOCK, BL_ABSENT) = Py_NewRef(scan_absent[AB_BL]);
    FIELD(bl, C_BLOCK, BL_EXTRA) = Py_NewRef(Py_None);
    PyList_SET_ITEM(items, 0, bl);
    FIELD(dl, C_DELTA, DL_CONTENT) = items;
    FIELD(dl, C_DELTA, DL_ROLE) = Py_NewRef(Py_None);
    FIELD(dl, C_DELTA, DL_ABSENT) = Py_NewRef(scan_absent[AB_DL]);
    FIELD(dl, C_DELTA, DL_EXTRA) = Py_NewRef(Py_None);
    FIELD(pl, C_PAYLOAD, PL_ID) = i;
    FIELD(pl, C_PAYLOAD, PL_OBJECT) = o;
    FIELD(pl, C_PAYLOAD, PL_DELTA) = dl;
    FIELD(pl, C_PAYLOAD, PL_ABSENT) = Py_NewRef(scan_absent[AB_PL]);
    FIELD(pl, C_PAYLOAD, PL_EXTRA) = Py_NewRef(Py_None);
    FIELD(ev, C_EVENT, EV_DATA) = pl;
    FIELD(ev, C_EVENT, EV_SSE) = Py_NewRef(sse);
    FIELD(ev, C_EVENT, EV_WARNING) = Py_NewRef(Py_None);
    return ev;
}

/* The event for data in ARGS_SHAPE (a function call's arguments growing), as
 * scan_text_delta builds a text delta's: ThreadRunStepDelta > RunStepDeltaEvent >
 * RunStepDelta > ToolCallDeltaObject > [FunctionToolCallDelta] >
 * FunctionToolCallFunction, the same classes and field values the Python decoder gives,
 * with the explicit records of absent keys. NULL with no error set: not that shape. */
static PyObject *
scan_args_delta(PyObject *sse, PyObject *data)
{
    if (scan_absent[AB_FF] == NULL) {
        return NULL;
    }
    Scan at;
    if (!scan_any(data, &ARGS_SHAPE, &at)) {
        return NULL;
    }
    PyObject *v = PyUnicode_Substring(data, at.value, at.value_end);
    PyObject *ix = v ? PyLong_FromLong(at.index) : NULL;
    PyObject *i = ix ? ascii_cached(&last_step_id, data, at.id, at.id_end) : NULL;
    PyObject *o = i ? ascii_cached(&last_step_object, data, at.object, at.object_end) : NULL;
    PyObject *calls = o ? PyList_New(1) : NULL;
    PyObject *ff = calls ? alloc(C_FFUNC) : NULL;
    PyObject *fd = ff ? alloc(C_FDELTA) : NULL;
    PyObject *dt = fd ? alloc(C_SDETAILS) : NULL;
    PyObject *sd = dt ? alloc(C_SDELTA) : NULL;
    PyObject *pl = sd ? alloc(C_SPAYLOAD) : NULL;
    PyObject *ev = pl ? alloc(C_SEVENT) : NULL;
    if (ev == NULL) {
        Py_XDECREF(v);
        Py_XDECREF(ix);
        Py_XDECREF(i);
        Py_XDECREF(o);
        Py_XDECREF(calls);
        Py_XDECREF(ff);
        Py_XDECREF(fd);
        Py_XDECREF(dt);
        Py_XDECREF(sd);
        Py_XDECREF(pl);
        return NULL;
    }
    FIELD(ff, C_FFUNC, FF_NAME) = Py_NewRef(Py_None);
    FIELD(ff, C_FFUNC, FF_ARGUMENTS) = v;
    FIELD(ff, C_FFUNC, FF_OUTPUT) = Py_NewRef(Py_None);
    FIELD(ff, C_FFUNC, FF_ABSENT) = Py_NewRef(scan_absent[AB_FF]);
    FIELD(ff, C_FFUNC, FF_EXTRA) = Py_NewRef(Py_None);
    FIELD(fd, C_FDELTA, FD_INDEX) = ix;
    FIELD(fd, C_FDELTA, FD_TYPE) = Py_NewRef(str_function);
    FIELD(fd, C_FDELTA, FD_ID) = Py_NewRef(Py_None);
    FIELD(fd, C_FDELTA, FD_FUNCTION) = ff;
    FIELD(fd, C_FDELTA, FD_ABSENT) = Py_NewRef(scan_absent[AB_FD]);
    FIELD(fd, C_FDELTA, FD_EXTRA) = Py_NewRef(Py_None);
    PyList_SET_ITEM(calls, 0, fd);
    FIELD(dt, C_SDETAILS, DT_TYPE) = Py_NewRef(str_tool_calls);
    FIELD(dt, C_SDETAILS, DT_CALLS) = calls;
    FIELD(dt, C_SDETAILS, DT_ABSENT) = Py_NewRef(scan_absent[AB_DT]);
    FIELD(dt, C_SDETAILS, DT_EXTRA) = Py_NewRef(Py_None);
    FIELD(sd, C_SDELTA, SD_DETAILS) = dt;
    FIELD(sd, C_SDELTA, SD_ABSENT) = Py_NewRef(scan_absent[AB_SDL]);
    FIELD(sd, C_SDELTA, SD_EXTRA) = Py_NewRef(Py_None);
    FIELD(pl, C_SPAYLOAD, PL_ID) = i;
    FIELD(pl, C_SPAYLOAD, PL_OBJECT) = o;
    FIELD(pl, C_SPAYLOAD, PL_DELTA) = sd;
    FIELD(pl, C_SPAYLOAD, PL_ABSENT) = Py_NewRef(scan_absent[AB_SPL]);
    FIELD(pl, C_SPAYLOAD, PL_EXTRA) = Py_NewRef(Py_None);
    FIELD(ev, C_SEVENT, EV_DATA) = pl;
    FIELD(ev, C_SEVENT, EV_SSE) = Py_NewRef(sse);
    FIELD(ev, C_SEVENT, EV_WARNING) = Py_NewRef(Py_None);
    return ev;
}

static PyObject *
text_decode(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    if (nargs == 1 && event_type != NULL && Py_IS_TYPE(args[0], event_type)) {
        PyObject *sse = args[0];
        PyObject *name = SLOT(sse, eoff[E_EVENT]), *data = SLOT(sse, eoff[E_DATA]);
        if (name != NULL && data != NULL && PyUnicode_CheckExact(name) &&
            PyUnicode_CheckExact(data) &&
            (name == str_step_delta || PyUnicode_Compare(name, str_step_delta) == 0)) {
            PyObject *scanned = scan_args_delta(sse, data);
            if (scanned != NULL || PyErr_Occurred()) {
                return scanned;
            }
        }
        else if (name != NULL && data != NULL && PyUnicode_CheckExact(name) &&
                 PyUnicode_CheckExact(data) &&
                 (name == str_msg_delta || PyUnicode_Compare(name, str_msg_delta) == 0)) {
            PyObject *scanned = scan_text_delta(sse, data);
            if (scanned != NULL || PyErr_Occurred()) {
                return scanned;
            }
            PyObject *payload = PyObject_CallOneArg(py_loads, data);
            if (payload == NULL) {
                PyErr_Clear(); /* not JSON orjson reads: the reference says why */
            }
            else {
                PyObject *ev = build_text_delta(sse, payload);
                Py_DECREF(payload);
                if (ev != NULL) {
                    return ev;
                }
                if (PyErr_Occurred()) {
                    return NULL;
                }
            }
        }
    }
    return PyObject_Vectorcall(py_decode, args, nargs, kwnames);
}

static PyMethodDef text_decode_def = {
    "decode", (PyCFunction)(void (*)(void))text_decode, METH_FASTCALL | METH_KEYWORDS,
    "decode(sse, *, tolerant=False)\n--\n\nDecode one Server-Sent Event (compiled plain text "
    "and function-arguments deltas; anything else by the pure-Python decoder).",
};

/* -- fold -- */

typedef struct {
    PyObject_HEAD
    PyObject *state;
    PyObject *tails; /* state.text_tails, read once: the fold never rebinds it */
    PyObject *python_fold;
    vectorcallfunc vectorcall;
} Folder;

static int
folder_traverse(Folder *self, visitproc visit, void *arg)
{
    Py_VISIT(self->state);
    Py_VISIT(self->tails);
    Py_VISIT(self->python_fold);
    return 0;
}

static int
folder_clear(Folder *self)
{
    Py_CLEAR(self->state);
    Py_CLEAR(self->tails);
    Py_CLEAR(self->python_fold);
    return 0;
}

static void
folder_dealloc(Folder *self)
{
    PyObject_GC_UnTrack(self);
    folder_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* What both fast folds check last, once the offer's objects are the expected ones: the
 * owner (message or step) in progress, the text grown as a chunk list, the delta at the
 * offered index; 1 and the delta count in *n when all hold, else 0 (an error may be set:
 * the caller returns NULL either way). */
static int
offer_holds(PyObject *status, PyObject *grown, PyObject *deltas, PyObject *index,
            PyObject *tindex, Py_ssize_t *n)
{
    if (status == NULL || !PyUnicode_CheckExact(status) ||
        (status != str_in_progress && PyUnicode_Compare(status, str_in_progress) != 0) ||
        grown == NULL || !PyList_CheckExact(grown) || deltas == NULL ||
        !PyLong_CheckExact(deltas)) {
        return 0;
    }
    if (PyObject_RichCompareBool(index, tindex, Py_EQ) <= 0) {
        return 0; /* an error (none possible for two ints) stays set */
    }
    *n = PyLong_AsSsize_t(deltas);
    if (*n == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    return 1;
}

/* The fold itself, in the Python fold's order (count the delta, make `owner` the state's
 * `current`, append the chunk), returning [first, second], the two Changes the caller
 * built (both stolen, released on failure). */
static PyObject *
commit_append(Folder *self, PyObject *current, PyObject *owner, PyObject **deltas_slot,
              Py_ssize_t n, PyObject *grown, PyObject *chunk, PyObject *first, PyObject *second)
{
    PyObject *count = PyLong_FromSsize_t(n + 1);
    PyObject *out = count ? PyList_New(2) : NULL;
    if (out == NULL) {
        Py_XDECREF(count);
        Py_DECREF(first);
        Py_DECREF(second);
        return NULL;
    }
    PyList_SET_ITEM(out, 0, first);
    PyList_SET_ITEM(out, 1, second);
    Py_INCREF(owner);
    Py_SETREF(*deltas_slot, count);
    int r = PyObject_SetAttr(self->state, current, owner);
    Py_DECREF(owner);
    if (r < 0 || PyList_Append(grown, chunk) < 0) {
        Py_DECREF(out);
        return NULL;
    }
    return out;
}

/* The fast fold of a plain text delta; NULL with no error set: not for the fast path. */
static PyObject *
fold_text(Folder *self, PyObject *event)
{
    if (!Py_IS_TYPE(event, cls[C_EVENT]) || FIELD(event, C_EVENT, EV_WARNING) != Py_None) {
        return NULL;
    }
    PyObject *pl = FIELD(event, C_EVENT, EV_DATA);
    if (pl == NULL || !Py_IS_TYPE(pl, cls[C_PAYLOAD])) {
        return NULL;
    }
    PyObject *id = FIELD(pl, C_PAYLOAD, PL_ID), *dl = FIELD(pl, C_PAYLOAD, PL_DELTA);
    if (id == NULL || !PyUnicode_CheckExact(id) || dl == NULL || !Py_IS_TYPE(dl, cls[C_DELTA]) ||
        FIELD(dl, C_DELTA, DL_ROLE) != Py_None) {
        return NULL;
    }
    PyObject *content = FIELD(dl, C_DELTA, DL_CONTENT);
    if (content == NULL || !PyList_CheckExact(content) || PyList_GET_SIZE(content) != 1) {
        return NULL;
    }
    PyObject *bl = PyList_GET_ITEM(content, 0);
    if (!Py_IS_TYPE(bl, cls[C_BLOCK])) {
        return NULL;
    }
    PyObject *index = FIELD(bl, C_BLOCK, BL_INDEX), *td = FIELD(bl, C_BLOCK, BL_TEXT);
    if (index == NULL || !PyLong_CheckExact(index) || td == NULL ||
        !Py_IS_TYPE(td, cls[C_TDELTA]) || FIELD(td, C_TDELTA, TD_ANNOTATIONS) != Py_None) {
        return NULL;
    }
    PyObject *chunk = FIELD(td, C_TDELTA, TD_VALUE);
    if (chunk == NULL || !PyUnicode_CheckExact(chunk) || PyUnicode_GET_LENGTH(chunk) == 0) {
        return NULL;
    }
    /* The fold's offer for this message, if it has one and it still holds. */
    if (self->tails == NULL) {
        return NULL; /* cleared by the garbage collector: the Python fold */
    }
    PyObject *tail = PyDict_GetItemWithError(self->tails, id);
    if (tail == NULL || !Py_IS_TYPE(tail, cls[C_TAIL])) {
        return NULL; /* an error from the lookup stays set */
    }
    PyObject *message = FIELD(tail, C_TAIL, TT_MESSAGE), *track = FIELD(tail, C_TAIL, TT_TRACK);
    PyObject *tindex = FIELD(tail, C_TAIL, TT_INDEX), *part = FIELD(tail, C_TAIL, TT_PART);
    PyObject *text = FIELD(tail, C_TAIL, TT_TEXT);
    if (message == NULL || !Py_IS_TYPE(message, cls[C_MESSAGE]) || track == NULL ||
        !Py_IS_TYPE(track, cls[C_TRACK]) || tindex == NULL || !PyLong_CheckExact(tindex) ||
        part == NULL || !Py_IS_TYPE(part, cls[C_PART]) || text == NULL ||
        !Py_IS_TYPE(text, cls[C_TEXT]) || FIELD(part, C_PART, PT_TEXT) != text) {
        return NULL;
    }
    PyObject *status = FIELD(message, C_MESSAGE, MS_STATUS);
    PyObject *grown = FIELD(text, C_TEXT, TX_VALUE);
    PyObject *kind = FIELD(part, C_PART, PT_TYPE);
    Py_ssize_t n;
    if (kind == NULL ||
        !offer_holds(status, grown, FIELD(track, C_TRACK, TR_DELTAS), index, tindex, &n)) {
        return NULL;
    }
    PyObject *cpd = alloc(C_CPD);
    PyObject *mda = cpd ? alloc(C_MDA) : NULL;
    if (mda == NULL) {
        Py_XDECREF(cpd);
        return NULL;
    }
    FIELD(cpd, C_CPD, CP_EVENT) = Py_NewRef(event);
    FIELD(cpd, C_CPD, CP_MESSAGE) = Py_NewRef(message);
    FIELD(cpd, C_CPD, CP_INDEX) = Py_NewRef(index);
    FIELD(cpd, C_CPD, CP_PART) = Py_NewRef(part);
    FIELD(cpd, C_CPD, CP_DELTA) = Py_NewRef(bl);
    FIELD(cpd, C_CPD, CP_KIND) = Py_NewRef(kind);
    FIELD(cpd, C_CPD, CP_TEXT) = Py_NewRef(chunk);
    FIELD(mda, C_MDA, MA_EVENT) = Py_NewRef(event);
    FIELD(mda, C_MDA, MA_MESSAGE) = Py_NewRef(message);
    FIELD(mda, C_MDA, MA_DELTA) = Py_NewRef(dl);
    return commit_append(self, str_current_message, message, &FIELD(track, C_TRACK, TR_DELTAS),
                         n, grown, chunk, cpd, mda);
}

static PyObject *
folder_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Folder *self = (Folder *)callable;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (nargs == 1 && kwnames == NULL) {
        PyObject *out = fold_text(self, args[0]);
        if (out != NULL || PyErr_Occurred()) {
            return out;
        }
    }
    return PyObject_Vectorcall(self->python_fold, args, nargsf, kwnames);
}

/* The fast fold of a plain function-arguments delta (what scan_args_delta built): one
 * function call delta at the offered index, no id, no name, no output, no unknown key,
 * non-empty arguments; the offer (a CallTail in state.call_tails: see _merge.CallTail)
 * still holding. NULL with no error set: not for the fast path. */
static PyObject *
fold_args(Folder *self, PyObject *event)
{
    if (!Py_IS_TYPE(event, cls[C_SEVENT]) || FIELD(event, C_SEVENT, EV_WARNING) != Py_None) {
        return NULL;
    }
    PyObject *pl = FIELD(event, C_SEVENT, EV_DATA);
    if (pl == NULL || !Py_IS_TYPE(pl, cls[C_SPAYLOAD])) {
        return NULL;
    }
    PyObject *id = FIELD(pl, C_SPAYLOAD, PL_ID), *sd = FIELD(pl, C_SPAYLOAD, PL_DELTA);
    if (id == NULL || !PyUnicode_CheckExact(id) || sd == NULL || !Py_IS_TYPE(sd, cls[C_SDELTA])) {
        return NULL;
    }
    PyObject *dt = FIELD(sd, C_SDELTA, SD_DETAILS);
    if (dt == NULL || !Py_IS_TYPE(dt, cls[C_SDETAILS])) {
        return NULL;
    }
    PyObject *calls = FIELD(dt, C_SDETAILS, DT_CALLS);
    if (calls == NULL || !PyList_CheckExact(calls) || PyList_GET_SIZE(calls) != 1) {
        return NULL;
    }
    /* Only what the scanner built: its records say exactly which keys were there. */
    PyObject *fd = PyList_GET_ITEM(calls, 0);
    if (!Py_IS_TYPE(fd, cls[C_FDELTA]) || FIELD(fd, C_FDELTA, FD_ABSENT) != scan_absent[AB_FD] ||
        FIELD(fd, C_FDELTA, FD_EXTRA) != Py_None || FIELD(fd, C_FDELTA, FD_ID) != Py_None) {
        return NULL;
    }
    PyObject *index = FIELD(fd, C_FDELTA, FD_INDEX), *fn = FIELD(fd, C_FDELTA, FD_FUNCTION);
    if (index == NULL || !PyLong_CheckExact(index) || fn == NULL || !Py_IS_TYPE(fn, cls[C_FFUNC]) ||
        FIELD(fn, C_FFUNC, FF_ABSENT) != scan_absent[AB_FF] ||
        FIELD(fn, C_FFUNC, FF_EXTRA) != Py_None || FIELD(fn, C_FFUNC, FF_NAME) != Py_None ||
        FIELD(fn, C_FFUNC, FF_OUTPUT) != Py_None) {
        return NULL;
    }
    PyObject *chunk = FIELD(fn, C_FFUNC, FF_ARGUMENTS);
    if (chunk == NULL || !PyUnicode_CheckExact(chunk) || PyUnicode_GET_LENGTH(chunk) == 0) {
        return NULL;
    }
    if (self->tails == NULL) {
        return NULL; /* cleared by the garbage collector: the Python fold */
    }
    PyObject *tail = PyDict_GetItemWithError(self->tails, id);
    if (tail == NULL || !Py_IS_TYPE(tail, cls[C_CTAIL])) {
        return NULL; /* an error from the lookup stays set */
    }
    PyObject *step = FIELD(tail, C_CTAIL, CT_STEP), *track = FIELD(tail, C_CTAIL, CT_TRACK);
    PyObject *tindex = FIELD(tail, C_CTAIL, CT_INDEX), *call = FIELD(tail, C_CTAIL, CT_CALL);
    PyObject *function = FIELD(tail, C_CTAIL, CT_FUNCTION);
    PyObject *details = FIELD(tail, C_CTAIL, CT_DETAILS);
    if (step == NULL || !Py_IS_TYPE(step, cls[C_STEP]) || details == NULL ||
        FIELD(step, C_STEP, ST_DETAILS) != details || track == NULL ||
        !Py_IS_TYPE(track, cls[C_STRACK]) || tindex == NULL || !PyLong_CheckExact(tindex) ||
        call == NULL || !Py_IS_TYPE(call, cls[C_FCALL]) || function == NULL ||
        !Py_IS_TYPE(function, cls[C_FFUNC]) || FIELD(call, C_FCALL, FC_FUNCTION) != function) {
        return NULL;
    }
    PyObject *status = FIELD(step, C_STEP, ST_STATUS);
    PyObject *grown = FIELD(function, C_FFUNC, FF_ARGUMENTS);
    PyObject *kind = FIELD(call, C_FCALL, FC_TYPE);
    Py_ssize_t n;
    if (kind == NULL ||
        !offer_holds(status, grown, FIELD(track, C_STRACK, TR_DELTAS), index, tindex, &n)) {
        return NULL;
    }
    PyObject *tcd = alloc(C_TCD);
    PyObject *sda = tcd ? alloc(C_SDA) : NULL;
    if (sda == NULL) {
        Py_XDECREF(tcd);
        return NULL;
    }
    FIELD(tcd, C_TCD, TC_EVENT) = Py_NewRef(event);
    FIELD(tcd, C_TCD, TC_STEP) = Py_NewRef(step);
    FIELD(tcd, C_TCD, TC_INDEX) = Py_NewRef(index);
    FIELD(tcd, C_TCD, TC_CALL) = Py_NewRef(call);
    FIELD(tcd, C_TCD, TC_DELTA) = Py_NewRef(fd);
    FIELD(tcd, C_TCD, TC_KIND) = Py_NewRef(kind);
    FIELD(tcd, C_TCD, TC_TEXT) = Py_NewRef(chunk);
    FIELD(sda, C_SDA, SA_EVENT) = Py_NewRef(event);
    FIELD(sda, C_SDA, SA_STEP) = Py_NewRef(step);
    FIELD(sda, C_SDA, SA_DELTA) = Py_NewRef(sd);
    return commit_append(self, str_current_step, step, &FIELD(track, C_STRACK, TR_DELTAS), n,
                         grown, chunk, tcd, sda);
}

static PyObject *
callfolder_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf,
                      PyObject *kwnames)
{
    Folder *self = (Folder *)callable;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (nargs == 1 && kwnames == NULL) {
        PyObject *out = fold_args(self, args[0]);
        if (out != NULL || PyErr_Occurred()) {
            return out;
        }
    }
    return PyObject_Vectorcall(self->python_fold, args, nargsf, kwnames);
}

/* A folder of `type` on state.<tails> (a dict the fold never rebinds). */
static PyObject *
new_folder(PyTypeObject *type, PyObject *args, PyObject *kwargs, PyObject *tails_name,
           vectorcallfunc vectorcall)
{
    PyObject *state, *python_fold;
    if (cls[C_COUNT - 1] == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "streamkit._speedups: install_fold first");
        return NULL;
    }
    if (kwargs != NULL && PyDict_GET_SIZE(kwargs)) {
        PyErr_Format(PyExc_TypeError, "%s takes no keyword arguments", type->tp_name);
        return NULL;
    }
    if (!PyArg_UnpackTuple(args, type->tp_name, 2, 2, &state, &python_fold)) {
        return NULL;
    }
    PyObject *tails = PyObject_GetAttr(state, tails_name);
    if (tails == NULL) {
        return NULL;
    }
    if (!PyDict_CheckExact(tails)) {
        Py_DECREF(tails);
        PyErr_Format(PyExc_TypeError, "state.%U is not a dict", tails_name);
        return NULL;
    }
    Folder *self = PyObject_GC_New(Folder, type);
    if (self == NULL) {
        Py_DECREF(tails);
        return NULL;
    }
    self->state = Py_NewRef(state);
    self->tails = tails;
    self->python_fold = Py_NewRef(python_fold);
    self->vectorcall = vectorcall;
    PyObject_GC_Track(self);
    return (PyObject *)self;
}

static PyObject *
folder_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    return new_folder(type, args, kwargs, str_text_tails, folder_vectorcall);
}

static PyObject *
callfolder_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    return new_folder(type, args, kwargs, str_call_tails, callfolder_vectorcall);
}

static PyTypeObject CallFolderType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "streamkit._speedups.CallFolder",
    .tp_basicsize = sizeof(Folder),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "CallFolder(state, python_fold): fold(event), the fast path for plain "
              "function-arguments deltas (see docs/speedups.md).",
    .tp_new = callfolder_new,
    .tp_dealloc = (destructor)folder_dealloc,
    .tp_traverse = (traverseproc)folder_traverse,
    .tp_clear = (inquiry)folder_clear,
    .tp_vectorcall_offset = offsetof(Folder, vectorcall),
    .tp_call = PyVectorcall_Call,
};

static PyTypeObject FolderType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "streamkit._speedups.TextFolder",
    .tp_basicsize = sizeof(Folder),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "TextFolder(state, python_fold): fold(event), the fast path for plain text "
              "deltas (see docs/speedups.md).",
    .tp_new = folder_new,
    .tp_dealloc = (destructor)folder_dealloc,
    .tp_traverse = (traverseproc)folder_traverse,
    .tp_clear = (inquiry)folder_clear,
    .tp_vectorcall_offset = offsetof(Folder, vectorcall),
    .tp_call = PyVectorcall_Call,
};

/* -- the per-event step -- */

/* EventStep(driver, decode, apply, tolerant, on_event, dispatch, sinks): one call per
 * Server-Sent Event doing what a stream's loop does with it, in the same order, with no
 * Python frame between the steps: event = decode(sse, tolerant=tolerant); driver.events
 * += 1; driver.last_event = event (what Driver.decode does); on_event(event) unless None;
 * changes = apply(event); for each change, dispatch.get(type(change)) called with it when
 * there is one; for each sink in the live list `sinks`, sink.push(event, changes); return
 * the event. An error raises from the step that met it, the steps before it done. */

typedef struct {
    PyObject_HEAD
    PyObject *driver, *decode, *apply, *tolerant, *on_event, *dispatch, *sinks;
    vectorcallfunc vectorcall;
    Py_ssize_t at; /* run(): the index of the event being stepped */
} Step;

static PyObject *kw_tolerant, *str_events, *str_last_event, *str_push, *int_one;

static int
step_traverse(Step *self, visitproc visit, void *arg)
{
    Py_VISIT(self->driver);
    Py_VISIT(self->decode);
    Py_VISIT(self->apply);
    Py_VISIT(self->tolerant);
    Py_VISIT(self->on_event);
    Py_VISIT(self->dispatch);
    Py_VISIT(self->sinks);
    return 0;
}

static int
step_clear(Step *self)
{
    Py_CLEAR(self->driver);
    Py_CLEAR(self->decode);
    Py_CLEAR(self->apply);
    Py_CLEAR(self->tolerant);
    Py_CLEAR(self->on_event);
    Py_CLEAR(self->dispatch);
    Py_CLEAR(self->sinks);
    return 0;
}

static void
step_dealloc(Step *self)
{
    PyObject_GC_UnTrack(self);
    step_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* The Changes to their hooks and both to the sinks; -1 with an error set. */
static int
step_deliver(Step *self, PyObject *event, PyObject *changes)
{
    PyObject *dispatch = self->dispatch;
    if (PyDict_GET_SIZE(dispatch) > 0 && PyList_CheckExact(changes)) {
        /* `for change in changes`: a list read live by index, as its iterator does. */
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(changes); i++) {
            PyObject *change = PyList_GET_ITEM(changes, i);
            PyObject *hook = PyDict_GetItemWithError(dispatch, (PyObject *)Py_TYPE(change));
            if (hook == NULL) {
                if (PyErr_Occurred()) {
                    return -1;
                }
                continue;
            }
            Py_INCREF(change);
            Py_INCREF(hook);
            PyObject *r = PyObject_CallOneArg(hook, change);
            Py_DECREF(hook);
            Py_DECREF(change);
            if (r == NULL) {
                return -1;
            }
            Py_DECREF(r);
        }
    }
    else if (PyDict_GET_SIZE(dispatch) > 0) {
        PyObject *it = PyObject_GetIter(changes);
        if (it == NULL) {
            return -1;
        }
        PyObject *change;
        while ((change = PyIter_Next(it)) != NULL) {
            PyObject *hook = PyDict_GetItemWithError(dispatch, (PyObject *)Py_TYPE(change));
            if (hook == NULL) {
                Py_DECREF(change);
                if (PyErr_Occurred()) {
                    Py_DECREF(it);
                    return -1;
                }
                continue;
            }
            Py_INCREF(hook);
            PyObject *r = PyObject_CallOneArg(hook, change);
            Py_DECREF(hook);
            Py_DECREF(change);
            if (r == NULL) {
                Py_DECREF(it);
                return -1;
            }
            Py_DECREF(r);
        }
        Py_DECREF(it);
        if (PyErr_Occurred()) {
            return -1;
        }
    }
    PyObject *sinks = self->sinks;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(sinks); i++) {
        PyObject *sink = Py_NewRef(PyList_GET_ITEM(sinks, i));
        PyObject *args[3] = {sink, event, changes};
        PyObject *r = PyObject_VectorcallMethod(str_push, args,
                                                3 | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
        Py_DECREF(sink);
        if (r == NULL) {
            return -1;
        }
        Py_DECREF(r);
    }
    return 0;
}

static PyObject *
step_one(Step *self, PyObject *sse)
{
    PyObject *call[2] = {sse, self->tolerant};
    PyObject *event = PyObject_Vectorcall(self->decode, call, 1, kw_tolerant);
    if (event == NULL) {
        return NULL;
    }
    PyObject *count = PyObject_GetAttr(self->driver, str_events);
    PyObject *next = count ? PyNumber_Add(count, int_one) : NULL;
    Py_XDECREF(count);
    if (next == NULL) {
        Py_DECREF(event);
        return NULL;
    }
    int r = PyObject_SetAttr(self->driver, str_events, next);
    Py_DECREF(next);
    if (r < 0 || PyObject_SetAttr(self->driver, str_last_event, event) < 0) {
        Py_DECREF(event);
        return NULL;
    }
    if (self->on_event != Py_None) {
        PyObject *out = PyObject_CallOneArg(self->on_event, event);
        if (out == NULL) {
            Py_DECREF(event);
            return NULL;
        }
        Py_DECREF(out);
    }
    PyObject *changes = PyObject_CallOneArg(self->apply, event);
    if (changes == NULL || step_deliver(self, event, changes) < 0) {
        Py_XDECREF(changes);
        Py_DECREF(event);
        return NULL;
    }
    Py_DECREF(changes);
    return event;
}

static PyObject *
step_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Step *self = (Step *)callable;
    if (PyVectorcall_NARGS(nargsf) != 1 || kwnames != NULL) {
        PyErr_SetString(PyExc_TypeError, "EventStep takes one Server-Sent Event");
        return NULL;
    }
    if (self->driver == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "EventStep was cleared");
        return NULL;
    }
    return step_one(self, args[0]);
}

/* run(sses): step(sse) for each in the list, in order; None. On an error, `at` is the
 * index of the event that raised (the ones before it were stepped). */
static PyObject *
step_run(Step *self, PyObject *sses)
{
    if (!PyList_CheckExact(sses)) {
        PyErr_SetString(PyExc_TypeError, "EventStep.run takes a list of Server-Sent Events");
        return NULL;
    }
    if (self->driver == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "EventStep was cleared");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(sses); i++) {
        self->at = i;
        PyObject *sse = Py_NewRef(PyList_GET_ITEM(sses, i));
        PyObject *event = step_one(self, sse);
        Py_DECREF(sse);
        if (event == NULL) {
            return NULL;
        }
        Py_DECREF(event);
    }
    Py_RETURN_NONE;
}

static PyMethodDef step_methods[] = {
    {"run", (PyCFunction)step_run, METH_O,
     "run(sses, /)\n--\n\nStep each Server-Sent Event of the list in order (what calling "
     "the step on each does, the events dropped); on an error, `at` is the index of the "
     "event that raised."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef step_members[] = {
    {"at", T_PYSSIZET, offsetof(Step, at), READONLY,
     "run(): the index of the event being stepped (on an error, the one that raised)."},
    {NULL, 0, 0, 0, NULL},
};

static PyObject *
step_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *driver, *decode, *apply, *tolerant, *on_event, *dispatch, *sinks;
    if (kwargs != NULL && PyDict_GET_SIZE(kwargs)) {
        PyErr_SetString(PyExc_TypeError, "EventStep takes no keyword arguments");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "OOOOOO!O!:EventStep", &driver, &decode, &apply, &tolerant,
                          &on_event, &PyDict_Type, &dispatch, &PyList_Type, &sinks)) {
        return NULL;
    }
    if (!PyBool_Check(tolerant)) {
        PyErr_SetString(PyExc_TypeError, "EventStep: tolerant must be a bool");
        return NULL;
    }
    Step *self = PyObject_GC_New(Step, type);
    if (self == NULL) {
        return NULL;
    }
    self->driver = Py_NewRef(driver);
    self->decode = Py_NewRef(decode);
    self->apply = Py_NewRef(apply);
    self->tolerant = Py_NewRef(tolerant);
    self->on_event = Py_NewRef(on_event);
    self->dispatch = Py_NewRef(dispatch);
    self->sinks = Py_NewRef(sinks);
    self->vectorcall = step_vectorcall;
    self->at = 0;
    PyObject_GC_Track(self);
    return (PyObject *)self;
}

static PyTypeObject StepType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "streamkit._speedups.EventStep",
    .tp_basicsize = sizeof(Step),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "EventStep(driver, decode, apply, tolerant, on_event, dispatch, sinks): "
              "step(sse) decodes, counts, folds and delivers one event (see Driver.event_step).",
    .tp_new = step_new,
    .tp_methods = step_methods,
    .tp_members = step_members,
    .tp_dealloc = (destructor)step_dealloc,
    .tp_traverse = (traverseproc)step_traverse,
    .tp_clear = (inquiry)step_clear,
    .tp_vectorcall_offset = offsetof(Step, vectorcall),
    .tp_call = PyVectorcall_Call,
};

/* -- the fold's entry point -- */

/* ApplyRouter(state, route): what State.apply does, compiled: the handler for the event's
 * class in state._handlers (read at each call: the fold rebinds it), called with the
 * event; route(event) when there is none. */

typedef struct {
    PyObject_HEAD
    PyObject *state, *route;
    vectorcallfunc vectorcall;
} Router;

static PyObject *str_handlers;

static int
router_traverse(Router *self, visitproc visit, void *arg)
{
    Py_VISIT(self->state);
    Py_VISIT(self->route);
    return 0;
}

static int
router_clear(Router *self)
{
    Py_CLEAR(self->state);
    Py_CLEAR(self->route);
    return 0;
}

static void
router_dealloc(Router *self)
{
    PyObject_GC_UnTrack(self);
    router_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
router_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Router *self = (Router *)callable;
    if (PyVectorcall_NARGS(nargsf) != 1 || kwnames != NULL) {
        PyErr_SetString(PyExc_TypeError, "apply takes one event");
        return NULL;
    }
    if (self->state == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "ApplyRouter was cleared");
        return NULL;
    }
    PyObject *event = args[0];
    PyObject *handlers = PyObject_GetAttr(self->state, str_handlers);
    if (handlers == NULL) {
        return NULL;
    }
    PyObject *handler;
    if (PyDict_CheckExact(handlers)) {
        handler = PyDict_GetItemWithError(handlers, (PyObject *)Py_TYPE(event));
        Py_XINCREF(handler);
    }
    else {
        handler = PyObject_CallMethod(handlers, "get", "O", (PyObject *)Py_TYPE(event));
        if (handler == Py_None) {
            Py_SETREF(handler, NULL);
        }
    }
    Py_DECREF(handlers);
    if (handler == NULL) {
        if (PyErr_Occurred()) {
            return NULL;
        }
        return PyObject_CallOneArg(self->route, event);
    }
    PyObject *out = PyObject_CallOneArg(handler, event);
    Py_DECREF(handler);
    return out;
}

static PyObject *
router_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *state, *route;
    if (kwargs != NULL && PyDict_GET_SIZE(kwargs)) {
        PyErr_SetString(PyExc_TypeError, "ApplyRouter takes no keyword arguments");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "OO:ApplyRouter", &state, &route)) {
        return NULL;
    }
    Router *self = PyObject_GC_New(Router, type);
    if (self == NULL) {
        return NULL;
    }
    self->state = Py_NewRef(state);
    self->route = Py_NewRef(route);
    self->vectorcall = router_vectorcall;
    PyObject_GC_Track(self);
    return (PyObject *)self;
}

static PyTypeObject RouterType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "streamkit._speedups.ApplyRouter",
    .tp_basicsize = sizeof(Router),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "ApplyRouter(state, route): apply(event), State.apply compiled: "
              "state._handlers.get(type(event)) called with it, else route(event).",
    .tp_new = router_new,
    .tp_dealloc = (destructor)router_dealloc,
    .tp_traverse = (traverseproc)router_traverse,
    .tp_clear = (inquiry)router_clear,
    .tp_vectorcall_offset = offsetof(Router, vectorcall),
    .tp_call = PyVectorcall_Call,
};

/* -- the text delta hook -- */

/* TextDeltaHook(hook, python_dispatch): the handler's dispatch of a ContentPartDelta when
 * on_text_delta is overridden. For a text ContentPartDelta of the Assistants fold (the
 * part a TextContentBlock holding a Text, the delta a TextDeltaBlock with a text) it calls
 * hook(delta.text, part.text), what _handler's Python dispatch calls for it; anything else
 * (another kind, a Responses part, no text in the delta, other classes) is
 * python_dispatch(change). Returns what the call returns. */

typedef struct {
    PyObject_HEAD
    PyObject *hook, *python_dispatch;
    vectorcallfunc vectorcall;
} TextHook;

static int
texthook_traverse(TextHook *self, visitproc visit, void *arg)
{
    Py_VISIT(self->hook);
    Py_VISIT(self->python_dispatch);
    return 0;
}

static int
texthook_clear(TextHook *self)
{
    Py_CLEAR(self->hook);
    Py_CLEAR(self->python_dispatch);
    return 0;
}

static void
texthook_dealloc(TextHook *self)
{
    PyObject_GC_UnTrack(self);
    texthook_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
texthook_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    TextHook *self = (TextHook *)callable;
    if (self->hook == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "TextDeltaHook was cleared");
        return NULL;
    }
    if (PyVectorcall_NARGS(nargsf) == 1 && kwnames == NULL && Py_IS_TYPE(args[0], cls[C_CPD])) {
        PyObject *change = args[0];
        PyObject *kind = FIELD(change, C_CPD, CP_KIND), *part = FIELD(change, C_CPD, CP_PART);
        PyObject *delta = FIELD(change, C_CPD, CP_DELTA);
        if (kind != NULL && PyUnicode_CheckExact(kind) &&
            (kind == str_text_key || PyUnicode_Compare(kind, str_text_key) == 0) &&
            part != NULL && Py_IS_TYPE(part, cls[C_PART]) && delta != NULL &&
            Py_IS_TYPE(delta, cls[C_BLOCK])) {
            PyObject *snapshot = FIELD(part, C_PART, PT_TEXT);
            PyObject *text = FIELD(delta, C_BLOCK, BL_TEXT);
            if (snapshot != NULL && Py_IS_TYPE(snapshot, cls[C_TEXT]) && text != NULL &&
                text != Py_None) {
                PyObject *call[2] = {Py_NewRef(text), Py_NewRef(snapshot)};
                PyObject *out = PyObject_Vectorcall(self->hook, call, 2, NULL);
                Py_DECREF(call[0]);
                Py_DECREF(call[1]);
                return out;
            }
        }
        PyErr_Clear(); /* PyUnicode_Compare cannot fail on two str, but be sure */
    }
    return PyObject_Vectorcall(self->python_dispatch, args, nargsf, kwnames);
}

/* CallDeltaHook(hook, python_dispatch): the dispatch of a ToolCallDelta when
 * on_tool_call_delta is overridden: hook(change.delta, change.tool_call), the call the
 * Python dispatch makes; python_dispatch(change) for anything else. */
static PyObject *
callhook_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    TextHook *self = (TextHook *)callable;
    if (self->hook == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "CallDeltaHook was cleared");
        return NULL;
    }
    if (PyVectorcall_NARGS(nargsf) == 1 && kwnames == NULL && Py_IS_TYPE(args[0], cls[C_TCD])) {
        PyObject *delta = FIELD(args[0], C_TCD, TC_DELTA);
        PyObject *call = FIELD(args[0], C_TCD, TC_CALL);
        if (delta != NULL && call != NULL) {
            PyObject *pair[2] = {Py_NewRef(delta), Py_NewRef(call)};
            PyObject *out = PyObject_Vectorcall(self->hook, pair, 2, NULL);
            Py_DECREF(pair[0]);
            Py_DECREF(pair[1]);
            return out;
        }
    }
    return PyObject_Vectorcall(self->python_dispatch, args, nargsf, kwnames);
}

static PyObject *
hook_new(PyTypeObject *type, PyObject *args, PyObject *kwargs, vectorcallfunc vectorcall)
{
    PyObject *hook, *python_dispatch;
    if (cls[C_COUNT - 1] == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "streamkit._speedups: install_fold first");
        return NULL;
    }
    if (kwargs != NULL && PyDict_GET_SIZE(kwargs)) {
        PyErr_Format(PyExc_TypeError, "%s takes no keyword arguments", type->tp_name);
        return NULL;
    }
    if (!PyArg_UnpackTuple(args, type->tp_name, 2, 2, &hook, &python_dispatch)) {
        return NULL;
    }
    TextHook *self = PyObject_GC_New(TextHook, type);
    if (self == NULL) {
        return NULL;
    }
    self->hook = Py_NewRef(hook);
    self->python_dispatch = Py_NewRef(python_dispatch);
    self->vectorcall = vectorcall;
    PyObject_GC_Track(self);
    return (PyObject *)self;
}

static PyObject *
callhook_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    return hook_new(type, args, kwargs, callhook_vectorcall);
}

static PyObject *
texthook_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    return hook_new(type, args, kwargs, texthook_vectorcall);
}

static PyTypeObject TextHookType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "streamkit._speedups.TextDeltaHook",
    .tp_basicsize = sizeof(TextHook),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "TextDeltaHook(hook, python_dispatch): dispatch(change), on_text_delta called "
              "directly for an Assistants text delta (see docs/speedups.md).",
    .tp_new = texthook_new,
    .tp_dealloc = (destructor)texthook_dealloc,
    .tp_traverse = (traverseproc)texthook_traverse,
    .tp_clear = (inquiry)texthook_clear,
    .tp_vectorcall_offset = offsetof(TextHook, vectorcall),
    .tp_call = PyVectorcall_Call,
};

static PyTypeObject CallHookType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "streamkit._speedups.CallDeltaHook",
    .tp_basicsize = sizeof(TextHook),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "CallDeltaHook(hook, python_dispatch): dispatch(change), on_tool_call_delta "
              "called directly for a ToolCallDelta (see docs/speedups.md).",
    .tp_new = callhook_new,
    .tp_dealloc = (destructor)texthook_dealloc,
    .tp_traverse = (traverseproc)texthook_traverse,
    .tp_clear = (inquiry)texthook_clear,
    .tp_vectorcall_offset = offsetof(TextHook, vectorcall),
    .tp_call = PyVectorcall_Call,
};

/* Check classes[first : first + count] (a tuple of exactly `count`) and commit them. */
static int
take_classes(PyObject *classes, int first, int count)
{
    if (!PyTuple_Check(classes) || PyTuple_GET_SIZE(classes) != count) {
        PyErr_Format(PyExc_TypeError, "expected a tuple of %d classes", count);
        return -1;
    }
    Py_ssize_t new_off[C_COUNT][8];
    for (int c = first; c < first + count; c++) {
        PyObject *t = PyTuple_GET_ITEM(classes, c - first);
        if (!PyType_Check(t) || strcmp(((PyTypeObject *)t)->tp_name, cls_names[c]) != 0) {
            PyErr_Format(PyExc_TypeError, "class %d is not %s", c, cls_names[c]);
            return -1;
        }
        PyTypeObject *tp = (PyTypeObject *)t;
        if (tp->tp_dictoffset != 0 || tp->tp_itemsize != 0 ||
            tp->tp_setattro != PyObject_GenericSetAttr || tp->tp_alloc != PyType_GenericAlloc) {
            PyErr_Format(PyExc_TypeError, "%s is not a plain slots class", tp->tp_name);
            return -1;
        }
        for (int k = 0; slot_names[c][k] != NULL; k++) {
            if (member_offset(tp, slot_names[c][k], &new_off[c][k]) < 0) {
                return -1;
            }
        }
        /* A class built here: its slots must be exactly the ones known here (plus the
         * models' `_extra`, left unset as the generated decoders leave it). */
        if (all_slots[c] >= 0) {
            Py_ssize_t weak = tp->tp_weaklistoffset ? (Py_ssize_t)sizeof(PyObject *) : 0;
            Py_ssize_t expected = (Py_ssize_t)sizeof(PyObject) +
                                  all_slots[c] * (Py_ssize_t)sizeof(PyObject *) + weak;
            if (tp->tp_basicsize != expected) {
                PyErr_Format(PyExc_TypeError, "%s has %zd bytes of instance storage, not %zd",
                             tp->tp_name, tp->tp_basicsize, expected);
                return -1;
            }
        }
    }
    for (int c = first; c < first + count; c++) {
        Py_XSETREF(cls[c], (PyTypeObject *)Py_NewRef(PyTuple_GET_ITEM(classes, c - first)));
        memcpy(off[c], new_off[c], sizeof(off[c]));
    }
    return 0;
}

static PyObject *
install_decode(PyObject *module, PyObject *args)
{
    PyObject *classes, *decode, *loads, *absent;
    if (!PyArg_ParseTuple(args, "OOOO!:install_decode", &classes, &decode, &loads,
                          &PyTuple_Type, &absent)) {
        return NULL;
    }
    if (PyTuple_GET_SIZE(absent) != AB_COUNT) {
        PyErr_Format(PyExc_TypeError, "expected the absent-key records of %d models", AB_COUNT);
        return NULL;
    }
    for (int k = 0; k < AB_COUNT; k++) {
        PyObject *record = PyTuple_GET_ITEM(absent, k);
        if (!PyTuple_CheckExact(record)) {
            PyErr_SetString(PyExc_TypeError, "an absent-key record is not a tuple");
            return NULL;
        }
        for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(record); j++) {
            if (!PyUnicode_CheckExact(PyTuple_GET_ITEM(record, j))) {
                PyErr_SetString(PyExc_TypeError, "an absent-key record holds a non-str");
                return NULL;
            }
        }
    }
    if (event_type == NULL) {
        PyErr_SetString(PyExc_TypeError, "the compiled SSE parser is not installed");
        return NULL;
    }
    if (take_classes(classes, C_EVENT, C_TAIL) < 0) {
        return NULL;
    }
    Py_XSETREF(py_decode, Py_NewRef(decode));
    Py_XSETREF(py_loads, Py_NewRef(loads));
    for (int k = 0; k < AB_COUNT; k++) {
        Py_XSETREF(scan_absent[k], Py_NewRef(PyTuple_GET_ITEM(absent, k)));
    }
    return PyCFunction_NewEx(&text_decode_def, NULL, NULL);
}

static PyObject *
install_fold(PyObject *module, PyObject *classes)
{
    if (py_decode == NULL) {
        PyErr_SetString(PyExc_TypeError, "the compiled decoder is not installed");
        return NULL;
    }
    if (take_classes(classes, C_TAIL, C_COUNT - C_TAIL) < 0) {
        return NULL;
    }
    return PyTuple_Pack(2, (PyObject *)&FolderType, (PyObject *)&CallFolderType);
}

static PyMethodDef module_methods[] = {
    {"install", install, METH_VARARGS,
     "install(parser_class, event_class, python_feed, /)\n--\n\n"
     "Check the classes' layout and return the compiled feed method (TypeError if the "
     "layout differs)."},
    {"install_decode", install_decode, METH_VARARGS,
     "install_decode(classes, python_decode, loads, absent, /)\n--\n\n"
     "Check the classes of the decoded text and arguments deltas; return the compiled decode "
     "(TypeError if a layout differs)."},
    {"install_fold", install_fold, METH_O,
     "install_fold(classes, /)\n--\n\n"
     "Check the fold's classes for the fast paths; return the TextFolder and CallFolder "
     "types (TypeError if a layout differs)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "streamkit._speedups",
    "The compiled hot path of streamkit (see docs/speedups.md).", -1, module_methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    str_message = PyUnicode_InternFromString("message");
    str_empty = PyUnicode_InternFromString("");
    str_lf = PyUnicode_InternFromString("\n");
    str_field = PyUnicode_InternFromString("_field");
    str_fail_line = PyUnicode_InternFromString("_fail_line");
    str_fail_event = PyUnicode_InternFromString("_fail_event");
    str_check_open = PyUnicode_InternFromString("_check_open");
    if (!str_message || !str_empty || !str_lf || !str_field || !str_fail_line ||
        !str_fail_event || !str_check_open) {
        return NULL;
    }
    static const struct {
        PyObject **slot;
        const char *text;
    } strings[] = {
        {&str_tolerant, "tolerant"},       {&str_current_message, "current_message"},
        {&str_text_tails, "text_tails"},   {&str_msg_delta, "thread.message.delta"},
        {&str_in_progress, "in_progress"}, {&str_text_key, "text"},
        {&str_value_key, "value"},         {&str_id_key, "id"},
        {&str_object_key, "object"},       {&str_delta_key, "delta"},
        {&str_content_key, "content"},     {&str_role_key, "role"},
        {&str_index_key, "index"},         {&str_type_key, "type"},
        {&str_annotations_key, "annotations"},
        {&str_step_delta, "thread.run.step.delta"},
        {&str_function, "function"},
        {&str_tool_calls, "tool_calls"},
        {&str_current_step, "current_step"},
        {&str_call_tails, "call_tails"},
    };
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
        *strings[i].slot = PyUnicode_InternFromString(strings[i].text);
        if (*strings[i].slot == NULL) {
            return NULL;
        }
    }
    if (PyType_Ready(&FolderType) < 0 || PyType_Ready(&CallFolderType) < 0 ||
        PyType_Ready(&StepType) < 0 || PyType_Ready(&CallHookType) < 0 ||
        PyType_Ready(&TextHookType) < 0 || PyType_Ready(&RouterType) < 0) {
        return NULL;
    }
    kw_tolerant = Py_BuildValue("(O)", str_tolerant);
    str_events = PyUnicode_InternFromString("events");
    str_last_event = PyUnicode_InternFromString("last_event");
    str_push = PyUnicode_InternFromString("push");
    str_handlers = PyUnicode_InternFromString("_handlers");
    int_one = PyLong_FromLong(1);
    if (!kw_tolerant || !str_events || !str_last_event || !str_push || !str_handlers ||
        !int_one) {
        return NULL;
    }
    PyObject *module = PyModule_Create(&module_def);
    if (module == NULL || PyModule_AddObjectRef(module, "EventStep", (PyObject *)&StepType) < 0 ||
        PyModule_AddObjectRef(module, "TextDeltaHook", (PyObject *)&TextHookType) < 0 ||
        PyModule_AddObjectRef(module, "ApplyRouter", (PyObject *)&RouterType) < 0 ||
        PyModule_AddObjectRef(module, "CallDeltaHook", (PyObject *)&CallHookType) < 0) {
        Py_XDECREF(module);
        return NULL;
    }
    return module;
}
