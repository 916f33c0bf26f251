package replicas

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// object is one VPC the stream made: its last sequence number in NetBox
// and, once deleted, when the DELETE was sent and answered.
type object struct {
	fabric                  int64
	dir, name               string
	n                       int // the object's number: its subnet
	id                      int64
	seq                     int
	deleted                 bool
	deleteStart, deleteDone time.Time
}

// stream sends ops creates, edits and deletes through NetBox, spread over
// the fabrics by workers goroutines; each worker owns its objects, so an
// object's edits reach NetBox in the order of their sequence numbers.
type stream struct {
	nb                      nbClient
	fabrics                 []int64
	dirs                    []string
	prefix                  string // of VPC names, unique per phase (at most 11 characters in all)
	counter                 atomic.Int64
	mu                      sync.Mutex
	objects                 []*object
	done                    atomic.Int64
	errs                    atomic.Int64
	firstErr                atomic.Value
	creates, edits, deletes atomic.Int64
}

func (s *stream) add(o *object) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects = append(s.objects, o)
}

// run sends ops operations with workers goroutines; progress(n) is called
// after each one (the chaos uses it to pick its moment).
func (s *stream) run(ops, workers int, seed uint64) {
	var wg sync.WaitGroup
	var left atomic.Int64
	left.Store(int64(ops))
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			live := map[int][]*object{} // fabric index → this worker's live objects
			for left.Add(-1) >= 0 {
				f := rng.IntN(len(s.fabrics))
				var err error
				switch r := rng.IntN(100); {
				case len(live[f]) < 4 || (r < 20 && len(live[f]) < 40):
					var o *object
					o, err = s.create(f)
					if err == nil {
						live[f] = append(live[f], o)
					}
				case r < 35:
					i := rng.IntN(len(live[f]))
					o := live[f][i]
					live[f] = append(live[f][:i], live[f][i+1:]...)
					err = s.remove(o)
				default:
					err = s.edit(live[f][rng.IntN(len(live[f]))])
				}
				if err != nil {
					s.errs.Add(1)
					s.firstErr.CompareAndSwap(nil, err.Error())
				}
				s.done.Add(1)
			}
		}()
	}
	wg.Wait()
}

func (s *stream) create(f int) (*object, error) {
	n := int(s.counter.Add(1))
	o := &object{fabric: s.fabrics[f], dir: s.dirs[f], name: fmt.Sprintf("%s%04d", s.prefix, n), n: n, seq: 1}
	var got vpc
	if err := s.nb.call(http.MethodPost, plugin+"vpcs/", map[string]any{"fabric": o.fabric, "name": o.name,
		"namespace": "default", "spec": vpcSpec(n, o.seq)}, &got); err != nil {
		return nil, err
	}
	o.id = got.ID
	s.add(o)
	s.creates.Add(1)
	return o, nil
}

func (s *stream) edit(o *object) error {
	if err := s.nb.call(http.MethodPatch, fmt.Sprintf("%svpcs/%d/", plugin, o.id),
		map[string]any{"spec": vpcSpec(o.n, o.seq+1)}, nil); err != nil {
		return err
	}
	s.mu.Lock()
	o.seq++
	s.mu.Unlock()
	s.edits.Add(1)
	return nil
}

func (s *stream) remove(o *object) error {
	start := time.Now()
	if err := s.nb.call(http.MethodDelete, fmt.Sprintf("%svpcs/%d/", plugin, o.id), nil, nil); err != nil {
		return err
	}
	s.mu.Lock()
	o.deleted, o.deleteStart, o.deleteDone = true, start, time.Now()
	s.mu.Unlock()
	s.deletes.Add(1)
	return nil
}

// byPath indexes the objects by their file's path in the repository.
func (s *stream) byPath() map[string]*object {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]*object, len(s.objects))
	for _, o := range s.objects {
		out[vpcPath(o.dir, o.name)] = o
	}
	return out
}

func vpcPath(dir, name string) string { return dir + "/managed/vpcs/" + name + ".yaml" }
