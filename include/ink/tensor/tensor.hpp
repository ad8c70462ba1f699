// Tensor<T>: a shared, 64-byte aligned storage seen through a shape, strides and an offset.
// Views (reshape, transpose, slice, expand ...) share storage with their base. This header
// holds the data structure and the raw, non-differentiable accessors; the differentiable
// methods declared here are defined in ops/ (include <ink/ops.hpp> or <ink/ink.hpp>).
// Part of tensor/: above core/ and kernels/, below autograd/.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "ink/core/error.hpp"
#include "ink/core/shape.hpp"
#include "ink/core/storage.hpp"

namespace ink {

template <class T>
class Tensor;

namespace autograd {
template <class T>
class Node;
}

// Autograd's bookkeeping for one tensor; null in tensors that never took part in autograd.
// Its behaviour lives in autograd/; here it is only data.
template <class T>
struct AutogradMeta {
  bool requires_grad = false;                     // a leaf the user asked gradients for
  std::shared_ptr<autograd::Node<T>> grad_fn;     // the node that made this tensor, if any
  std::weak_ptr<autograd::Node<T>> grad_accumulator;  // a leaf's AccumulateGrad, while alive
  std::shared_ptr<Tensor<T>> grad;                // accumulated gradient (a leaf's .grad)
};

template <class T>
struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Shape strides;
  index_t offset = 0;
  std::shared_ptr<AutogradMeta<T>> autograd;
};

// Options of reductions over dims.
struct ReduceOptions {
  bool keepdim = false;
};

template <class T>
class Tensor {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double> ||
                    std::is_same_v<T, std::int64_t>,
                "ink::Tensor<T>: T must be float, double or int64_t");

 public:
  using value_type = T;

  // An undefined tensor (no storage), like a default-constructed torch::Tensor.
  Tensor() = default;
  // Copying and destroying a tensor are atomic reference-count updates with a release path;
  // inlined, they were ~750 copies in a small program (every temporary, every exception
  // cleanup). Out of line they cost a call, next to work that allocates and loops.
  [[gnu::noinline]] Tensor(const Tensor&) = default;
  Tensor(Tensor&&) noexcept = default;
  Tensor& operator=(const Tensor&) = default;
  Tensor& operator=(Tensor&&) noexcept = default;
  [[gnu::noinline]] ~Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl<T>> impl) : impl_(std::move(impl)) {}

  // A new, uninitialised, contiguous tensor.
  static Tensor empty(const Shape& shape) {
    check_sizes(shape, "empty");
    auto impl = std::make_shared<TensorImpl<T>>();
    const index_t n = ink::numel(shape);
    impl->storage = std::make_shared<Storage>(static_cast<std::size_t>(std::max<index_t>(n, 1)) * sizeof(T));
    impl->shape = shape;
    impl->strides = contiguous_strides(shape);
    return Tensor(std::move(impl));
  }

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return checked().shape; }
  const Shape& sizes() const { return shape(); }
  const Shape& strides() const { return checked().strides; }
  index_t dim() const { return static_cast<index_t>(shape().size()); }
  index_t size(index_t d) const { return shape()[wrap_dim(d, dim(), "size")]; }
  index_t stride(index_t d) const { return strides()[wrap_dim(d, dim(), "stride")]; }
  index_t numel() const { return ink::numel(shape()); }
  index_t storage_offset() const { return checked().offset; }
  const std::shared_ptr<Storage>& storage() const { return checked().storage; }
  const std::shared_ptr<TensorImpl<T>>& impl() const { return impl_; }

  bool is_contiguous() const {
    const auto& s = shape();
    const auto& st = strides();
    index_t expected = 1;
    for (std::size_t i = s.size(); i-- > 0;) {
      if (s[i] != 1 && st[i] != expected) return false;
      expected *= s[i];
    }
    return true;
  }

  // Pointer to the first element (storage + offset). Elements are at data_ptr()[sum i_d*stride_d].
  T* data_ptr() const { return static_cast<T*>(storage()->data()) + storage_offset(); }

  // The element at a multi-index (each index may be negative, counting from the end).
  T& at(std::initializer_list<index_t> index) const { return at(std::vector<index_t>(index)); }
  T& at(const std::vector<index_t>& index) const {
    INK_CHECK(ValueError, static_cast<index_t>(index.size()) == dim(), "at: got ", index.size(),
                      " indices for a tensor of shape ", shape());
    index_t off = 0;
    for (std::size_t d = 0; d < index.size(); ++d) {
      index_t i = index[d];
      const index_t n = shape()[d];
      INK_CHECK(ValueError, i >= -n && i < n, "at: index ", i, " out of range for dim ", d,
                        " of size ", n);
      if (i < 0) i += n;
      off += i * strides()[d];
    }
    return data_ptr()[off];
  }

  // The value of a one-element tensor.
  T item() const {
    INK_CHECK(ValueError, numel() == 1, "item: tensor of shape ", shape(),
                      " has ", numel(), " elements, not 1");
    return *data_ptr();
  }

  // The elements in row-major order.
  std::vector<T> to_vector() const;

  // ---- autograd state (data only; the engine lives in autograd/) ----
  // True for a leaf with requires_grad set and for every result computed from one.
  bool requires_grad() const {
    const auto& m = checked().autograd;
    return m && (m->requires_grad || m->grad_fn);
  }
  // A tensor is a leaf unless an op that recorded a gradient node made it.
  bool is_leaf() const {
    const auto& m = checked().autograd;
    return !m || !m->grad_fn;
  }
  // Asks autograd to accumulate gradients into this leaf's grad(); returns *this.
  Tensor& requires_grad_(bool flag = true) {
    INK_CHECK(AutogradError, is_leaf(), "requires_grad_: only leaf tensors can change requires_grad; "
                                    "use detach() to get a leaf from a computed tensor");
    if (!std::is_floating_point_v<T> && flag)
      throw AutogradError("requires_grad_: only float and double tensors can require gradients");
    meta().requires_grad = flag;
    return *this;
  }
  // The accumulated gradient; undefined until a backward pass reached this leaf.
  Tensor grad() const {
    const auto& m = checked().autograd;
    return m && m->grad ? *m->grad : Tensor();
  }
  void set_grad(const Tensor& g) { meta().grad = g.defined() ? std::make_shared<Tensor>(g) : nullptr; }
  // Forgets the accumulated gradient (PyTorch's set_to_none behaviour).
  void zero_grad() {
    if (checked().autograd) checked().autograd->grad.reset();
  }
  const std::shared_ptr<autograd::Node<T>>& grad_fn() const {
    static const std::shared_ptr<autograd::Node<T>> none;
    const auto& m = checked().autograd;
    return m ? m->grad_fn : none;
  }
  AutogradMeta<T>& meta() {
    auto& m = checked().autograd;
    if (!m) m = std::make_shared<AutogradMeta<T>>();
    return *m;
  }
  // A tensor sharing this one's storage, outside any graph.
  Tensor detach() const {
    auto impl = std::make_shared<TensorImpl<T>>();
    impl->storage = storage();
    impl->shape = shape();
    impl->strides = strides();
    impl->offset = storage_offset();
    return Tensor(std::move(impl));
  }
  // A raw view of the same storage with new geometry; not recorded by autograd.
  Tensor as_strided(const Shape& shape, const Shape& strides, index_t offset) const {
    auto impl = std::make_shared<TensorImpl<T>>();
    impl->storage = storage();
    impl->shape = shape;
    impl->strides = strides;
    impl->offset = offset;
    return Tensor(std::move(impl));
  }
  bool is_same(const Tensor& other) const { return impl_ == other.impl_; }

  // ---- in-place, not recorded by autograd (optimisers, initialisers, user code) ----
  // Each throws AutogradError on a tensor that requires grad while grad mode is on.
  Tensor& fill_(T value);
  Tensor& zero_() { return fill_(T(0)); }
  Tensor& copy_(const Tensor& src);                 // src broadcasts to this shape
  Tensor& add_(const Tensor& other, T alpha = T(1));  // this += alpha * other (broadcast)
  Tensor& mul_(T factor);

  // ---- differentiable methods, defined in ops/ ----
  Tensor reshape(const Shape& shape) const;
  Tensor view(const Shape& shape) const;
  Tensor flatten(index_t start_dim = 0, index_t end_dim = -1) const;
  Tensor transpose(index_t d0, index_t d1) const;
  Tensor t() const;
  Tensor permute(const Shape& dims) const;
  Tensor narrow(index_t dim, index_t start, index_t length) const;
  Tensor slice(index_t dim, std::optional<index_t> start, std::optional<index_t> end, index_t step = 1) const;
  Tensor select(index_t dim, index_t index) const;
  Tensor squeeze() const;
  Tensor squeeze(index_t dim) const;
  Tensor unsqueeze(index_t dim) const;
  Tensor expand(const Shape& shape) const;
  Tensor expand_as(const Tensor& other) const;
  Tensor contiguous() const;
  Tensor clone() const;

  Tensor sum() const;
  Tensor sum(const Shape& dims, ReduceOptions o = {}) const;
  Tensor mean() const;
  Tensor mean(const Shape& dims, ReduceOptions o = {}) const;
  Tensor max() const;
  Tensor max(const Shape& dims, ReduceOptions o = {}) const;
  Tensor min() const;
  Tensor min(const Shape& dims, ReduceOptions o = {}) const;
  Tensor var() const;  // unbiased, all elements; var({}, false) for the biased one
  Tensor var(const Shape& dims, bool unbiased = true, ReduceOptions o = {}) const;
  Tensor<std::int64_t> argmax(std::optional<index_t> dim = std::nullopt, ReduceOptions o = {}) const;

  Tensor neg() const;
  Tensor exp() const;
  Tensor log() const;
  Tensor sqrt() const;
  Tensor abs() const;
  Tensor pow(T exponent) const;
  Tensor pow(const Tensor& exponent) const;
  Tensor clamp(std::optional<T> lo, std::optional<T> hi) const;
  Tensor tanh() const;
  Tensor sigmoid() const;
  Tensor relu() const;
  Tensor matmul(const Tensor& other) const;

  // Converts to another element type (a copy; not recorded by autograd).
  template <class U>
  Tensor<U> to() const;

  // Runs reverse-mode autograd from this tensor (defined in autograd/). Without `gradient`
  // the tensor must hold one element, and the seed is 1.
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false,
                bool create_graph = false) const;

 private:
  TensorImpl<T>& checked() const {
    if (!impl_) throw Error("ink::Tensor: operation on an undefined tensor");
    return *impl_;
  }
  std::shared_ptr<TensorImpl<T>> impl_;
};

}  // namespace ink
