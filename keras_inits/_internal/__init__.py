"""What every folder of keras_inits shares, and no user imports.

The package's foundation: argument checks and their wording (`checks`),
every use of Keras' private API (`keras_internals`), NumPy's and PyTorch's
own functions under `keras.ops` names (`native_ops`), sharded draws on JAX
(`sharding`), the device's and dtypes' limits (`limits`), giving freed
host memory back to the system (`allocator`), the cores the process may
use (`threads`), exact reading of
numbers and arrays (`arrays`), the normal distribution's functions
(`gaussian`), gradients with the backend's autodiff (`autodiff`), the
table format of every report (`tables`), one name for an initializer
(`naming`), one path for a variable (`paths`), the initializers a layer's
variables were made with (`variable_initializers`), the plain MLP of the
diagnostics and experiments (`networks`), the figures' line styles
(`plotting`) and the experiments' defaults (`defaults`).

Every folder may import these modules; they import nothing of keras_inits
outside this folder. Nothing here is public: it has no `__all__`, and what
a user needs of it is exported by a public folder (`check_number` by
`keras_inits.initializers`, for instance).
"""
