package volsync

import "fmt"

// Requests and answers share one connection, and the primary answers in
// the order asked. One goroutine sends the requests (sendRequests) and
// tells the reader, through expect, what answer comes next: the sub-block
// sums of a planned file that has candidate blocks, or the data of a file
// whose plan is complete. A file's data request goes out as soon as its
// sums were read and decided, so the first files stream in, are written
// and committed while later files are still being planned. The queues
// between them have fixed sizes, whatever the size of the index.

// Queue sizes of the stream.
const (
	expectQueue    = 1024 // answers asked for and not read yet
	maxPendingSums = 256  // files whose sums were asked for and not decided yet
)

// expectation is an answer the reader is to read next.
type expectation struct {
	p    *filePlan
	sums bool // a SUMS answer (else the file's BLOCKS answer, if it asked for data)
}

// stream sends the requests for the plans coming on ready and reads the
// answers: sums are decided, files are written. It returns only once the
// request sender ended. On an error the answers to the requests in
// flight are left unread, so the connection is out of step: it is broken
// (which also ends a send blocked on a primary that does not read), and
// the planners are told to stop.
func (r *receiver) stream(ready <-chan *filePlan, ws *writers, cm *committer) error {
	expect := make(chan expectation, expectQueue)
	decided := make(chan *filePlan, maxPendingSums)
	quit := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		err := r.sendRequests(ready, decided, expect, quit)
		if err != nil { // the answers to requests not sent would never come
			r.c.breakOff(err)
		}
		errc <- err
	}()
	err := r.readAnswers(expect, decided, ws, cm)
	close(quit)
	if err != nil {
		r.stopPlanning()
		r.c.breakOff(fmt.Errorf("transfer stopped: %w", err))
	}
	serr := <-errc
	if serr != nil && (err == nil || r.c.brokenBy(serr)) {
		return serr // the cause: the reader only saw the connection close
	}
	return err // the sender, if it failed, only saw the connection the reader broke off
}

// readAnswers reads the answers expect announces until it is closed or
// one fails.
func (r *receiver) readAnswers(expect <-chan expectation, decided chan<- *filePlan, ws *writers, cm *committer) error {
	for e := range expect {
		if e.sums {
			if err := r.readSums(e.p); err != nil {
				return err
			}
			decided <- e.p // never blocks: at most cap(decided) are pending
			continue
		}
		if err := ws.failed(); err != nil {
			return err
		}
		if err := r.writeFile(e.p, ws, cm); err != nil {
			return err
		}
		r.countPlan(e.p)
	}
	return nil
}

// requestSender is sendRequests' state.
type requestSender struct {
	r         *receiver
	expect    chan<- expectation
	quit      <-chan struct{}
	unflushed bool // requests written but not flushed
}

// sendRequests asks for the sums of each new plan's candidate blocks,
// and for each file's data once its plan is decided (right away without
// candidates), queueing the matching expectations. It flushes whenever it
// or the reader is about to wait, so the primary never idles on a
// buffered request. At most cap(decided) files wait for their sums, so
// the reader never waits to hand one back.
func (r *receiver) sendRequests(ready, decided <-chan *filePlan, expect chan<- expectation, quit <-chan struct{}) error {
	defer close(expect)
	s := &requestSender{r: r, expect: expect, quit: quit}
	pending := 0 // plans waiting for their sums
	for ready != nil || pending > 0 {
		in := ready
		if pending >= cap(decided) {
			in = nil
		}
		// Flush when this goroutine is about to wait, or the reader is.
		if len(in) == 0 && len(decided) == 0 || len(expect) < 2 {
			if err := s.flush(); err != nil {
				return err
			}
		}
		var p *filePlan
		select {
		case q, ok := <-in:
			if !ok {
				ready = nil
				continue
			}
			if len(q.cands) > 0 {
				pending++
				if err := s.askSums(q); err != nil {
					return err
				}
				continue
			}
			p = q
		case p = <-decided:
			pending--
		case <-quit:
			return nil
		}
		if err := s.askData(p); err != nil {
			return err
		}
	}
	return s.flush()
}

// askSums requests the sums of p's candidate blocks.
func (s *requestSender) askSums(p *filePlan) error {
	r := s.r
	req := fileRequest{volume: r.volume, path: p.en.Path, size: p.en.Size, mtime: p.en.ModTime, blocks: toU32(p.cands)}
	if err := r.c.send(msgSums, encodeSumsRequest(&req)); err != nil {
		return fmt.Errorf("request sums of %s: %w", p.en.Path, err)
	}
	s.unflushed = true
	return s.push(expectation{p, true})
}

// askData lays out p's spans and requests them, if any.
func (s *requestSender) askData(p *filePlan) error {
	r := s.r
	p.layout()
	if len(p.spans) > 0 && !p.stale {
		req := fileRequest{volume: r.volume, path: p.en.Path, size: p.en.Size, mtime: p.en.ModTime, ranges: mergeSpans(p.spans)}
		if err := r.c.send(msgBlocks, encodeBlocksRequest(&req)); err != nil {
			return fmt.Errorf("request blocks of %s: %w", p.en.Path, err)
		}
		s.unflushed = true
	}
	return s.push(expectation{p, false})
}

// push queues an expectation. When the queue is full, the requests
// written so far are flushed first: the reader may be waiting for one of
// their answers.
func (s *requestSender) push(e expectation) error {
	select {
	case s.expect <- e:
		return nil
	default:
	}
	if err := s.flush(); err != nil {
		return err
	}
	select {
	case s.expect <- e:
	case <-s.quit:
	}
	return nil
}

func (s *requestSender) flush() error {
	if !s.unflushed {
		return nil
	}
	if err := s.r.c.flush(); err != nil {
		return fmt.Errorf("send requests: %w", err)
	}
	s.unflushed = false
	return nil
}
